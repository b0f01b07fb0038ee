/* graft-block-names.h: names of a model's blocks a newcomer can read.
 *
 * Graph names ("MobilenetV2/expanded_conv_2") mean little to someone who
 * has not built the model: blocks are shown as "Block 3" (or "First
 * layer", "Final layers"), with the graph name, less what every block's
 * name starts with, as a dim detail. */
#pragma once

#include "blocks.h"

G_BEGIN_DECLS

/* What the names of the blocks before the head all start with, up to and
 * including a '/' ("MobilenetV2/"), or "" when they share nothing. */
char *graft_block_names_prefix (const GraftBlock *blocks, int n_blocks);

/* name without prefix; name itself when it does not start with it. */
const char *graft_block_names_strip (const char *name, const char *prefix);

/* "First layer", "Block 3", "Final layers": the block's title by its place
 * and kind. Newly allocated. */
char *
graft_block_names_title (const GraftBlock *blocks, int n_blocks, int index);

G_END_DECLS
