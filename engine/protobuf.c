/* protobuf.c: the protocol buffers wire format, just enough for ONNX. */
#include "protobuf.h"

#include "graft-error.h"

#include <string.h>

#define PB_MAX_VARINT_BYTES 10

typedef enum
{
  VARINT_OK,
  VARINT_TRUNCATED,
  VARINT_TOO_LONG, /* more than 10 bytes */
  VARINT_OVERFLOW, /* 10 bytes, but more than 64 bits of value */
} VarintStatus;

static VarintStatus
decode_varint (const guint8 **pos, const guint8 *end, guint64 *value)
{
  const guint8 *p = *pos;
  guint64 v = 0;

  for (int i = 0; i < PB_MAX_VARINT_BYTES; i++)
    {
      guint8 b;
      if (p >= end)
        return VARINT_TRUNCATED;
      b = *p++;
      /* The tenth byte holds only bit 63. */
      if (i == PB_MAX_VARINT_BYTES - 1 && (b & 0x7f) > 1)
        return VARINT_OVERFLOW;
      v |= (guint64) (b & 0x7f) << (7 * i);
      if ((b & 0x80) == 0)
        {
          *pos = p;
          *value = v;
          return VARINT_OK;
        }
    }
  return VARINT_TOO_LONG;
}

void
pb_reader_init (PbReader *r,
                const guint8 *data,
                size_t len,
                const char *display_name,
                const PbField *fields)
{
  memset (r, 0, sizeof *r);
  r->start = data;
  r->pos = data;
  r->end = data + len;
  r->display_name = display_name;
  r->fields = fields;
}

void
pb_error (const PbReader *r, GError **error, int code, const char *format, ...)
{
  va_list args;
  g_autofree char *text = NULL;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, GRAFT_ERROR, code, "%s: %s", r->display_name, text);
}

static size_t
offset_of (const PbReader *r, const guint8 *p)
{
  return (size_t) (p - r->start);
}

char *
pb_printable (const char *s)
{
  GString *out = g_string_new (NULL);
  const char *p = s ? s : "";
  const char *end = p + strlen (p);
  int n_chars = 0;

  while (p < end)
    {
      gunichar c = g_utf8_get_char_validated (p, end - p);
      if (++n_chars > 64)
        {
          g_string_append (out, "...");
          break;
        }
      if (c == (gunichar) -1 || c == (gunichar) -2)
        {
          g_string_append_printf (out, "\\x%02x", (guint8) *p);
          p++;
          continue;
        }
      if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0))
        g_string_append_printf (out, "\\x%02x", (guint) c);
      else
        g_string_append_len (out, p, g_utf8_next_char (p) - p);
      p = g_utf8_next_char (p);
    }
  return g_string_free (out, FALSE);
}

char *
pb_field_describe (const PbReader *r)
{
  for (const PbField *f = r->fields; f && f->name; f++)
    if (f->number == r->field)
      return g_strdup_printf ("field '%s' (%u)", f->name, r->field);
  return g_strdup_printf ("field %u", r->field);
}

static const char *
wire_name (PbWireType wire)
{
  switch (wire)
    {
    case PB_WIRE_VARINT:
      return "varint";
    case PB_WIRE_I64:
      return "64-bit";
    case PB_WIRE_LEN:
      return "length-delimited";
    case PB_WIRE_SGROUP:
      return "start group";
    case PB_WIRE_EGROUP:
      return "end group";
    case PB_WIRE_I32:
      return "32-bit";
    default:
      return "invalid";
    }
}

static gboolean
varint_error (const PbReader *r,
              const guint8 *at,
              VarintStatus status,
              const char *what,
              GError **error)
{
  switch (status)
    {
    case VARINT_TRUNCATED:
      pb_error (r, error, GRAFT_ERROR_PARSE,
                "truncated: %s at byte %zu ends in the middle of a varint",
                what, offset_of (r, at));
      break;
    case VARINT_TOO_LONG:
      pb_error (r, error, GRAFT_ERROR_PARSE,
                "malformed %s at byte %zu: varint longer than %d bytes", what,
                offset_of (r, at), PB_MAX_VARINT_BYTES);
      break;
    case VARINT_OVERFLOW:
    case VARINT_OK:
    default:
      pb_error (r, error, GRAFT_ERROR_PARSE,
                "malformed %s at byte %zu: varint does not fit in 64 bits",
                what, offset_of (r, at));
      break;
    }
  return FALSE;
}

/* Reads a varint value of the current field. */
static gboolean
field_varint (PbReader *r, guint64 *value, GError **error)
{
  const guint8 *at = r->pos;
  VarintStatus status = decode_varint (&r->pos, r->end, value);

  if (status != VARINT_OK)
    {
      g_autofree char *what = pb_field_describe (r);
      return varint_error (r, at, status, what, error);
    }
  return TRUE;
}

static gboolean
need_bytes (PbReader *r, guint64 n, GError **error)
{
  size_t remain = (size_t) (r->end - r->pos);

  if (n > remain)
    {
      g_autofree char *what = pb_field_describe (r);
      pb_error (r, error, GRAFT_ERROR_PARSE,
                "truncated: %s needs %" G_GUINT64_FORMAT
                " bytes but only %zu remain",
                what, n, remain);
      return FALSE;
    }
  return TRUE;
}

static gboolean
expect_wire (PbReader *r, PbWireType wire, GError **error)
{
  if (r->wire != wire)
    {
      g_autofree char *what = pb_field_describe (r);
      pb_error (r, error, GRAFT_ERROR_PARSE,
                "%s has wire type %d (%s) where %d (%s) is expected", what,
                (int) r->wire, wire_name (r->wire), (int) wire,
                wire_name (wire));
      return FALSE;
    }
  return TRUE;
}

gboolean
pb_at_end (const PbReader *r)
{
  return r->pos >= r->end;
}

gboolean
pb_next (PbReader *r, GError **error)
{
  const guint8 *at = r->pos;
  guint64 tag;
  VarintStatus status = decode_varint (&r->pos, r->end, &tag);

  if (status != VARINT_OK)
    return varint_error (r, at, status, "tag", error);
  if (tag > G_MAXUINT32)
    {
      pb_error (r, error, GRAFT_ERROR_PARSE,
                "malformed tag at byte %zu: field number out of range",
                offset_of (r, at));
      return FALSE;
    }
  r->field = (guint32) (tag >> 3);
  r->wire = (PbWireType) (tag & 7);
  if (r->field == 0)
    {
      pb_error (r, error, GRAFT_ERROR_PARSE,
                "malformed tag at byte %zu: field number 0", offset_of (r, at));
      return FALSE;
    }
  if (r->wire == PB_WIRE_SGROUP || r->wire == PB_WIRE_EGROUP)
    {
      g_autofree char *what = pb_field_describe (r);
      pb_error (r, error, GRAFT_ERROR_PARSE,
                "%s at byte %zu is a deprecated group (wire type %d), which "
                "ONNX files never contain",
                what, offset_of (r, at), (int) r->wire);
      return FALSE;
    }
  if (r->wire > PB_WIRE_I32)
    {
      g_autofree char *what = pb_field_describe (r);
      pb_error (r, error, GRAFT_ERROR_PARSE,
                "%s at byte %zu has the invalid wire type %d", what,
                offset_of (r, at), (int) r->wire);
      return FALSE;
    }
  return TRUE;
}

gboolean
pb_skip (PbReader *r, GError **error)
{
  guint64 v;

  switch (r->wire)
    {
    case PB_WIRE_VARINT:
      return field_varint (r, &v, error);
    case PB_WIRE_I64:
      if (!need_bytes (r, 8, error))
        return FALSE;
      r->pos += 8;
      return TRUE;
    case PB_WIRE_I32:
      if (!need_bytes (r, 4, error))
        return FALSE;
      r->pos += 4;
      return TRUE;
    case PB_WIRE_LEN:
      {
        const guint8 *data;
        size_t len;
        return pb_read_bytes (r, &data, &len, error);
      }
    case PB_WIRE_SGROUP:
    case PB_WIRE_EGROUP:
    default:
      /* pb_next() refuses these */
      return expect_wire (r, PB_WIRE_LEN, error);
    }
}

gboolean
pb_read_uint64 (PbReader *r, guint64 *value, GError **error)
{
  return expect_wire (r, PB_WIRE_VARINT, error) &&
         field_varint (r, value, error);
}

gboolean
pb_read_int64 (PbReader *r, gint64 *value, GError **error)
{
  guint64 v;

  if (!pb_read_uint64 (r, &v, error))
    return FALSE;
  *value = (gint64) v;
  return TRUE;
}

gboolean
pb_read_int32 (PbReader *r, gint32 *value, GError **error)
{
  guint64 v;

  if (!pb_read_uint64 (r, &v, error))
    return FALSE;
  *value = (gint32) (guint32) v;
  return TRUE;
}

gboolean
pb_read_float (PbReader *r, float *value, GError **error)
{
  if (!expect_wire (r, PB_WIRE_I32, error) || !need_bytes (r, 4, error))
    return FALSE;
  pb_copy_le (value, r->pos, 1, 4);
  r->pos += 4;
  return TRUE;
}

gboolean
pb_read_bytes (PbReader *r, const guint8 **data, size_t *len, GError **error)
{
  guint64 n;

  if (!expect_wire (r, PB_WIRE_LEN, error) || !field_varint (r, &n, error) ||
      !need_bytes (r, n, error))
    return FALSE;
  *data = r->pos;
  *len = (size_t) n;
  r->pos += n;
  return TRUE;
}

gboolean
pb_read_string (PbReader *r, char **value, size_t *len, GError **error)
{
  const guint8 *data;
  size_t n;

  if (!pb_read_bytes (r, &data, &n, error))
    return FALSE;
  g_free (*value);
  *value = g_malloc (n + 1);
  if (n)
    memcpy (*value, data, n);
  (*value)[n] = '\0';
  if (len)
    *len = n;
  return TRUE;
}

gboolean
pb_read_message (PbReader *r,
                 PbReader *sub,
                 const PbField *fields,
                 GError **error)
{
  const guint8 *data;
  size_t n;

  if (r->depth + 1 > PB_MAX_DEPTH)
    {
      pb_error (r, error, GRAFT_ERROR_LIMIT,
                "messages are nested more than %d levels deep at byte %zu",
                PB_MAX_DEPTH, offset_of (r, r->pos));
      return FALSE;
    }
  if (!pb_read_bytes (r, &data, &n, error))
    return FALSE;
  *sub = *r;
  sub->pos = data;
  sub->end = data + n;
  sub->fields = fields;
  sub->depth = r->depth + 1;
  sub->field = 0;
  return TRUE;
}

/* Checks that [p, end) is a run of complete varints and counts them. */
static gboolean
count_packed_varints (PbReader *r,
                      const guint8 *p,
                      const guint8 *end,
                      size_t *count,
                      GError **error)
{
  size_t n = 0;

  while (p < end)
    {
      const guint8 *at = p;
      guint64 v;
      VarintStatus status = decode_varint (&p, end, &v);
      if (status != VARINT_OK)
        {
          g_autofree char *what = pb_field_describe (r);
          return varint_error (r, at, status, what, error);
        }
      n++;
    }
  *count = n;
  return TRUE;
}

gboolean
pb_read_repeated (PbReader *r, PbWireType elem, PbRepeated *rep, GError **error)
{
  size_t elem_size = elem == PB_WIRE_I32 ? 4 : elem == PB_WIRE_I64 ? 8 : 0;

  memset (rep, 0, sizeof *rep);
  rep->elem = elem;
  if (r->wire == PB_WIRE_LEN && elem != PB_WIRE_LEN)
    {
      const guint8 *data;
      size_t n;

      if (!pb_read_bytes (r, &data, &n, error))
        return FALSE;
      rep->pos = data;
      rep->end = data + n;
      if (elem == PB_WIRE_VARINT)
        return count_packed_varints (r, data, data + n, &rep->count, error);
      if (n % elem_size != 0)
        {
          g_autofree char *what = pb_field_describe (r);
          pb_error (r, error, GRAFT_ERROR_PARSE,
                    "packed %s has %zu bytes, not a multiple of %zu", what, n,
                    elem_size);
          return FALSE;
        }
      rep->count = n / elem_size;
      return TRUE;
    }
  if (!expect_wire (r, elem, error))
    return FALSE;
  rep->pos = r->pos;
  if (elem == PB_WIRE_VARINT)
    {
      guint64 v;
      if (!field_varint (r, &v, error))
        return FALSE;
    }
  else
    {
      if (!need_bytes (r, elem_size, error))
        return FALSE;
      r->pos += elem_size;
    }
  rep->end = r->pos;
  rep->count = 1;
  return TRUE;
}

guint64
pb_repeated_varint (PbRepeated *rep)
{
  guint64 v = 0;

  /* Validated by pb_read_repeated(); a failure here is a caller bug. */
  if (decode_varint (&rep->pos, rep->end, &v) != VARINT_OK)
    g_return_val_if_reached (0);
  return v;
}

guint32
pb_repeated_fixed32 (PbRepeated *rep)
{
  guint32 v;

  g_return_val_if_fail (rep->end - rep->pos >= 4, 0);
  pb_copy_le (&v, rep->pos, 1, 4);
  rep->pos += 4;
  return v;
}

guint64
pb_repeated_fixed64 (PbRepeated *rep)
{
  guint64 v;

  g_return_val_if_fail (rep->end - rep->pos >= 8, 0);
  pb_copy_le (&v, rep->pos, 1, 8);
  rep->pos += 8;
  return v;
}

void
pb_copy_le (void *dst, const void *src, size_t n_elems, size_t elem_size)
{
#if G_BYTE_ORDER == G_LITTLE_ENDIAN
  if (n_elems)
    memcpy (dst, src, n_elems * elem_size);
#else
  guint8 *d = dst;
  const guint8 *s = src;
  /* Byte-reverse each element; works in place too (dst == src). */
  for (size_t i = 0; i < n_elems; i++)
    {
      guint8 tmp[8];
      for (size_t b = 0; b < elem_size; b++)
        tmp[b] = s[i * elem_size + elem_size - 1 - b];
      memcpy (d + i * elem_size, tmp, elem_size);
    }
#endif
}

/* Writer */

void
pb_writer_init (PbWriter *w)
{
  memset (w, 0, sizeof *w);
}

void
pb_writer_clear (PbWriter *w)
{
  g_free (w->data);
  pb_writer_init (w);
}

GBytes *
pb_writer_steal (PbWriter *w)
{
  GBytes *bytes = g_bytes_new_take (w->data, w->len);
  pb_writer_init (w);
  return bytes;
}

static guint8 *
writer_grow (PbWriter *w, size_t n)
{
  guint8 *p;

  if (n > G_MAXSIZE - w->len)
    g_error ("protobuf writer: size overflow");
  if (w->len + n > w->capacity)
    {
      size_t cap = w->capacity ? w->capacity : 256;
      while (cap < w->len + n)
        cap = cap > G_MAXSIZE / 2 ? w->len + n : cap * 2;
      w->data = g_realloc (w->data, cap);
      w->capacity = cap;
    }
  p = w->data + w->len;
  w->len += n;
  return p;
}

static size_t
varint_size (guint64 v)
{
  size_t n = 1;
  while (v >= 0x80)
    {
      v >>= 7;
      n++;
    }
  return n;
}

static size_t
encode_varint (guint8 *p, guint64 v)
{
  size_t n = 0;
  while (v >= 0x80)
    {
      p[n++] = (guint8) (v | 0x80);
      v >>= 7;
    }
  p[n++] = (guint8) v;
  return n;
}

void
pb_write_varint (PbWriter *w, guint64 value)
{
  guint8 *p = writer_grow (w, varint_size (value));
  encode_varint (p, value);
}

void
pb_write_raw (PbWriter *w, const void *data, size_t len)
{
  if (len)
    memcpy (writer_grow (w, len), data, len);
}

void
pb_write_tag (PbWriter *w, guint32 field, PbWireType wire)
{
  pb_write_varint (w, ((guint64) field << 3) | (guint64) wire);
}

void
pb_write_uint64_field (PbWriter *w, guint32 field, guint64 value)
{
  pb_write_tag (w, field, PB_WIRE_VARINT);
  pb_write_varint (w, value);
}

void
pb_write_int64_field (PbWriter *w, guint32 field, gint64 value)
{
  pb_write_uint64_field (w, field, (guint64) value);
}

void
pb_write_float_field (PbWriter *w, guint32 field, float value)
{
  pb_write_tag (w, field, PB_WIRE_I32);
  pb_copy_le (writer_grow (w, 4), &value, 1, 4);
}

void
pb_write_bytes_field (PbWriter *w, guint32 field, const void *data, size_t len)
{
  pb_write_tag (w, field, PB_WIRE_LEN);
  pb_write_varint (w, len);
  pb_write_raw (w, data, len);
}

void
pb_write_string_field (PbWriter *w, guint32 field, const char *s)
{
  if (s == NULL)
    s = "";
  pb_write_bytes_field (w, field, s, strlen (s));
}

void
pb_write_le_field (PbWriter *w,
                   guint32 field,
                   const void *data,
                   size_t n_elems,
                   size_t elem_size)
{
  size_t len = n_elems * elem_size;

  pb_write_tag (w, field, PB_WIRE_LEN);
  pb_write_varint (w, len);
  if (len)
    pb_copy_le (writer_grow (w, len), data, n_elems, elem_size);
}

void
pb_write_packed_int64 (PbWriter *w,
                       guint32 field,
                       const int64_t *values,
                       size_t n)
{
  size_t len = 0;

  for (size_t i = 0; i < n; i++)
    len += varint_size ((guint64) values[i]);
  pb_write_tag (w, field, PB_WIRE_LEN);
  pb_write_varint (w, len);
  for (size_t i = 0; i < n; i++)
    pb_write_varint (w, (guint64) values[i]);
}

void
pb_write_packed_float (PbWriter *w,
                       guint32 field,
                       const float *values,
                       size_t n)
{
  pb_write_le_field (w, field, values, n, sizeof (float));
}

size_t
pb_begin_message (PbWriter *w, guint32 field)
{
  size_t mark;

  pb_write_tag (w, field, PB_WIRE_LEN);
  mark = w->len;
  /* One byte for the length; pb_end_message() makes room for more. */
  writer_grow (w, 1);
  return mark;
}

void
pb_end_message (PbWriter *w, size_t mark)
{
  size_t body = w->len - mark - 1;
  size_t k = varint_size (body);

  if (k > 1)
    {
      writer_grow (w, k - 1);
      memmove (w->data + mark + k, w->data + mark + 1, body);
    }
  encode_varint (w->data + mark, body);
}
