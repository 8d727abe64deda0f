#include <zstd.h>
// zstd's fastCover trainer with chosen parameters (ZstdDictionary.train) is in zdict.h's experimental section;
// libzstd exports it.
#define ZDICT_STATIC_LINKING_ONLY
#include <zdict.h>
