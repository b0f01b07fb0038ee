/* graft-block-names.c: names of a model's blocks a newcomer can read. */
#include "config.h"

#include "graft-block-names.h"

#include <glib/gi18n.h>
#include <string.h>

char *
graft_block_names_prefix (const GraftBlock *blocks, int n_blocks)
{
  const char *first = NULL;
  size_t len = 0;

  /* The head is named by whoever built the training graph ("classifier"),
   * not by the model's author: it would leave no common part. */
  for (int b = 0; b < n_blocks; b++)
    {
      const char *name = blocks[b].name;
      size_t j = 0;

      if (blocks[b].kind == GRAFT_BLOCK_HEAD)
        continue;
      if (first == NULL)
        {
          first = name;
          len = strlen (name);
          continue;
        }
      while (j < len && name[j] == first[j])
        j++;
      len = j;
    }
  if (first == NULL)
    return g_strdup ("");
  /* Cut after the last '/' of the common part, so that a block named
   * only by the prefix ("Net/") keeps a name of its own. */
  while (len > 0 && first[len - 1] != '/')
    len--;
  for (int b = 0; b < n_blocks && len > 0; b++)
    if (blocks[b].kind != GRAFT_BLOCK_HEAD && strlen (blocks[b].name) == len)
      return g_strdup ("");
  return g_strndup (first, len);
}

const char *
graft_block_names_strip (const char *name, const char *prefix)
{
  if (prefix[0] != '\0' && g_str_has_prefix (name, prefix) &&
      name[strlen (prefix)] != '\0')
    return name + strlen (prefix);
  return name;
}

/* The first block is a plain layer (a convolution straight on the photo)
 * in most image models: it gets a title, and "Block 1" is the next one. */
static gboolean
starts_with_single_layer (const GraftBlock *blocks, int n_blocks)
{
  return n_blocks > 2 && blocks[0].kind == GRAFT_BLOCK_LAYER;
}

char *
graft_block_names_title (const GraftBlock *blocks, int n_blocks, int index)
{
  g_return_val_if_fail (index >= 0 && index < n_blocks, NULL);

  if (blocks[index].kind == GRAFT_BLOCK_HEAD)
    /* Translators: the title of the classifier at a model's end */
    return g_strdup (_ ("Final layers"));
  if (index == 0 && starts_with_single_layer (blocks, n_blocks))
    /* Translators: the title of the layer that reads the photo */
    return g_strdup (_ ("First layer"));
  /* Translators: a numbered group of a model's layers, e.g. "Block 3" */
  return g_strdup_printf (
      _ ("Block %d"),
      starts_with_single_layer (blocks, n_blocks) ? index : index + 1);
}
