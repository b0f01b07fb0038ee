Bblock.project.1.running_meanJ@Y5¾Îtv=éÎ…½J6*¾ ]>>F;L¾,N>Æ«å¼rŒ£¼z¾k>ô—ºT´¨½¸ñ…=-ÿm=.
R½ØS!¾