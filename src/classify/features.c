/* features.c — UTF-8 normalisation and hashed character n-grams (see
 * features.h). No allocation: the code points live in a stack buffer. */
#include "classify/features.h"

#include <stdlib.h>
#include <string.h>

#define DIGIT '0'

/* Decodes one UTF-8 sequence at s (n bytes left). Returns its length and sets
 * *cp, or returns 1 with *cp = 0 for an invalid byte (overlong forms,
 * surrogates, truncated sequences and values past U+10FFFF are invalid). */
static size_t decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char b = s[0];
    uint32_t c, min;
    size_t len;
    if (b < 0x80) {
        *cp = b;
        return 1;
    }
    if (b >= 0xC2 && b <= 0xDF) {
        len = 2, c = b & 0x1F, min = 0x80;
    } else if (b >= 0xE0 && b <= 0xEF) {
        len = 3, c = b & 0x0F, min = 0x800;
    } else if (b >= 0xF0 && b <= 0xF4) {
        len = 4, c = b & 0x07, min = 0x10000;
    } else {
        *cp = 0;
        return 1;
    }
    if (len > n) {
        *cp = 0;
        return 1;
    }
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *cp = 0;
            return 1;
        }
        c = (c << 6) | (s[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
        *cp = 0;
        return 1;
    }
    *cp = c;
    return len;
}

static int is_cjk(uint32_t c)
{
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
           (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x20000 && c <= 0x3134F);
}

/* One code point → its normalised form, or 0 for a boundary. */
static uint32_t fold(uint32_t c)
{
    if (c == 0x3000)
        return 0; /* ideographic space */
    if (c >= 0xFF01 && c <= 0xFF5E)
        c -= 0xFEE0; /* full-width ASCII → ASCII */
    if (c < 0x80) {
        if (c >= 'A' && c <= 'Z')
            return c + 32;
        if ((c >= 'a' && c <= 'z'))
            return c;
        if (c >= '0' && c <= '9')
            return DIGIT;
        return 0; /* spaces, controls, punctuation */
    }
    if ((c >= 0x2460 && c <= 0x249B) || (c >= 0x2776 && c <= 0x2793))
        return DIGIT; /* circled and parenthesised numbers */
    if (is_cjk(c) || (c >= 0xC0 && c <= 0x24F && c != 0xD7 && c != 0xF7) ||
        (c >= 0x370 && c <= 0x4FF) || (c >= 0x3040 && c <= 0x30FF) ||
        (c >= 0xAC00 && c <= 0xD7A3) || (c >= 0xFF66 && c <= 0xFF9D))
        return c; /* letters of scripts we may meet */
    return 0;     /* punctuation, symbols, emoji, everything else */
}

size_t co_features_normalize(const char *text, size_t len, uint32_t *cps, size_t max)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t n = 0, i = 0;
    if (len > CO_FEAT_TEXT_MAX)
        len = CO_FEAT_TEXT_MAX;
    while (i < len && n < max) {
        uint32_t cp;
        i += decode(s + i, len - i, &cp);
        cp = cp ? fold(cp) : 0;
        if (cp == 0 && (n == 0 || cps[n - 1] == 0))
            continue; /* one boundary is enough */
        if (cp == DIGIT && n > 0 && cps[n - 1] == DIGIT)
            continue; /* a number is one token */
        cps[n++] = cp;
    }
    return n;
}

static uint64_t mix(uint64_t z)
{
    z ^= z >> 33;
    z *= 0xff51afd7ed558ccdull;
    z ^= z >> 33;
    z *= 0xc4ceb9fe1a85ec53ull;
    z ^= z >> 33;
    return z;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

size_t co_features_extract(const char *text, size_t len, unsigned bits, unsigned ngram,
                           uint32_t *out, size_t max)
{
    uint32_t cps[CO_FEAT_TEXT_MAX];
    size_t n = co_features_normalize(text, len, cps, sizeof cps / sizeof cps[0]);
    size_t k = 0;
    if (bits < CO_FEAT_BITS_MIN || bits > CO_FEAT_BITS_MAX)
        return 0;
    if (ngram > CO_FEAT_NGRAM_MAX)
        ngram = CO_FEAT_NGRAM_MAX;
    for (size_t i = 0; i < n; i++) {
        uint64_t h = 0x9E3779B97F4A7C15ull;
        for (unsigned g = 0; g < ngram && i + g < n && cps[i + g] && k < max; g++) {
            h = mix(h ^ ((uint64_t)cps[i + g] << 8 | (g + 1)));
            out[k++] = (uint32_t)(h >> (64 - bits));
        }
    }
    qsort(out, k, sizeof *out, cmp_u32);
    size_t m = 0;
    for (size_t i = 0; i < k; i++)
        if (m == 0 || out[m - 1] != out[i])
            out[m++] = out[i];
    return m;
}
