Bdown_pw.1.running_meanJ@тy9=р	›>љ#<)щ=є…<bxU=Kво=Вd_ѕђdАј‡ѕЄ<О
=9;>[Ѓ™<–\<fЄS=