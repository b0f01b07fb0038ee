/* protobuf.h: the protocol buffers wire format, just enough for ONNX.
 *
 * The reader walks a message field by field and checks everything against
 * the bytes it has: lengths inside the buffer, varints of at most 10 bytes,
 * wire types that match the field, nesting depth. Every error message starts
 * with the display name of the source and, where there is one, names the
 * field ("model.onnx: truncated: field 'graph' (7) needs ...").
 *
 * The writer appends to a growable buffer whose size is a size_t, so a
 * message may exceed 4 GiB (GByteArray cannot).
 */
#pragma once

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

G_BEGIN_DECLS

/* Deeper than any ONNX message gets: model > graph > node > attribute >
 * graph ... for about 20 levels of nested subgraphs. */
#define PB_MAX_DEPTH 64

typedef enum
{
  PB_WIRE_VARINT = 0,
  PB_WIRE_I64 = 1,
  PB_WIRE_LEN = 2,
  PB_WIRE_SGROUP = 3, /* deprecated groups: refused */
  PB_WIRE_EGROUP = 4,
  PB_WIRE_I32 = 5,
} PbWireType;

/* Names a message's fields for error messages; a table ends with {0, NULL}. */
typedef struct
{
  guint32 number;
  const char *name;
} PbField;

typedef struct
{
  const guint8 *start; /* the whole buffer: error messages give offsets */
  const guint8 *pos;
  const guint8 *end;
  const char *display_name;
  const PbField *fields;
  int depth;
  /* The field whose tag pb_next() just read. */
  guint32 field;
  PbWireType wire;
} PbReader;

void pb_reader_init (PbReader *r,
                     const guint8 *data,
                     size_t len,
                     const char *display_name,
                     const PbField *fields);

/* Sets error to "DISPLAY_NAME: " followed by the formatted text. */
void
pb_error (const PbReader *r, GError **error, int code, const char *format, ...)
    G_GNUC_PRINTF (4, 5);

/* A string from a file made fit for a one-line message: control
 * characters and invalid UTF-8 escaped, long text shortened. */
char *pb_printable (const char *s);

/* "field 'graph' (7)" or "field 17" for the current field. */
char *pb_field_describe (const PbReader *r);

gboolean pb_at_end (const PbReader *r);
/* Reads the next tag into r->field and r->wire. */
gboolean pb_next (PbReader *r, GError **error);
/* Skips the current field's value (unknown fields). */
gboolean pb_skip (PbReader *r, GError **error);

/* Scalar values of the current field; each checks the wire type. */
gboolean pb_read_uint64 (PbReader *r, guint64 *value, GError **error);
gboolean pb_read_int64 (PbReader *r, gint64 *value, GError **error);
/* int32 is sign-extended on the wire; like libprotobuf, keep the low bits. */
gboolean pb_read_int32 (PbReader *r, gint32 *value, GError **error);
gboolean pb_read_float (PbReader *r, float *value, GError **error);
gboolean
pb_read_bytes (PbReader *r, const guint8 **data, size_t *len, GError **error);
/* Replaces *value (freed) with the bytes plus a NUL; *len gets the byte
 * count when len is not NULL (it differs from strlen if the bytes hold a
 * NUL). */
gboolean
pb_read_string (PbReader *r, char **value, size_t *len, GError **error);
/* Opens the current field as an embedded message. */
gboolean pb_read_message (PbReader *r,
                          PbReader *sub,
                          const PbField *fields,
                          GError **error);

/* A repeated scalar field, one value or a packed run, validated up front so
 * that the element reads below cannot fail. */
typedef struct
{
  const guint8 *pos;
  const guint8 *end;
  PbWireType elem;
  size_t count;
} PbRepeated;

gboolean pb_read_repeated (PbReader *r,
                           PbWireType elem,
                           PbRepeated *rep,
                           GError **error);
guint64 pb_repeated_varint (PbRepeated *rep);
guint32 pb_repeated_fixed32 (PbRepeated *rep);
guint64 pb_repeated_fixed64 (PbRepeated *rep);

/* Little-endian element copies (a plain memcpy on little-endian hosts). */
void pb_copy_le (void *dst, const void *src, size_t n_elems, size_t elem_size);

typedef struct
{
  guint8 *data;
  size_t len;
  size_t capacity;
} PbWriter;

void pb_writer_init (PbWriter *w);
/* Hands the bytes over; the writer is empty afterwards. */
GBytes *pb_writer_steal (PbWriter *w);
void pb_writer_clear (PbWriter *w);

void pb_write_raw (PbWriter *w, const void *data, size_t len);
void pb_write_tag (PbWriter *w, guint32 field, PbWireType wire);
void pb_write_varint (PbWriter *w, guint64 value);
void pb_write_uint64_field (PbWriter *w, guint32 field, guint64 value);
void pb_write_int64_field (PbWriter *w, guint32 field, gint64 value);
void pb_write_float_field (PbWriter *w, guint32 field, float value);
void
pb_write_bytes_field (PbWriter *w, guint32 field, const void *data, size_t len);
/* NULL is written as "". */
void pb_write_string_field (PbWriter *w, guint32 field, const char *s);
/* Array elements as little-endian bytes in one length-delimited field. */
void pb_write_le_field (PbWriter *w,
                        guint32 field,
                        const void *data,
                        size_t n_elems,
                        size_t elem_size);
void pb_write_packed_int64 (PbWriter *w,
                            guint32 field,
                            const int64_t *values,
                            size_t n);
void pb_write_packed_float (PbWriter *w,
                            guint32 field,
                            const float *values,
                            size_t n);
/* An embedded message: begin, write its fields, end (fills the length). */
size_t pb_begin_message (PbWriter *w, guint32 field);
void pb_end_message (PbWriter *w, size_t mark);

G_END_DECLS
