/* features.h — text → hashed features for the classifier.
 * The text (UTF-8, possibly invalid) is normalised code point by code point:
 * full-width ASCII (U+FF01..FF5E) and the ideographic space become their
 * ASCII forms, ASCII letters are lower-cased, every digit (ASCII, full-width,
 * circled) becomes '0' and a run of digits collapses to one, punctuation,
 * symbols, spaces and invalid bytes are boundaries. Within each segment
 * between boundaries the features are the character unigrams, bigrams and
 * trigrams (up to CO_FEAT_NGRAM_MAX), each hashed with its order into one of
 * 2^bits buckets. The caller owns every buffer; nothing is allocated. */
#ifndef CO_CLASSIFY_FEATURES_H
#define CO_CLASSIFY_FEATURES_H

#include <stddef.h>
#include <stdint.h>

#define CO_FEAT_NGRAM_MAX 3
#define CO_FEAT_BITS_MIN 10
#define CO_FEAT_BITS_MAX 24
#define CO_FEAT_TEXT_MAX 4096 /* bytes of text looked at; the rest is ignored */
/* Enough room for every feature of a CO_FEAT_TEXT_MAX-byte text. */
#define CO_FEAT_MAX (CO_FEAT_TEXT_MAX * CO_FEAT_NGRAM_MAX)

/* Normalises text into code points (boundaries as 0); returns how many were
 * written (at most max). */
size_t co_features_normalize(const char *text, size_t len, uint32_t *cps, size_t max);

/* Writes the sorted, distinct bucket numbers of text's n-grams (1..ngram)
 * into out (at most max) and returns their count. */
size_t co_features_extract(const char *text, size_t len, unsigned bits, unsigned ngram,
                           uint32_t *out, size_t max);

#endif
