/* fuzz_values.c — libFuzzer target: single values from outside. Every line
 * of the input is run through all value parsers with their round trips
 * (fz_values.c: ISO 8601 times, working-time limits, working hours and the
 * deadlines they give, enumerations, categories, numbers, phone masking,
 * area codes, UTF-8 helpers); a line "LON,LAT" is also converted between
 * the four coordinate systems, which must give finite, valid points. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fz_values.h"
#include "geo/coord.h"
#include "lib/strparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void coords(const char *s)
{
    const char *comma = strchr(s, ',');
    char a[80];
    double lon, lat;
    if (!comma || (size_t)(comma - s) >= sizeof a)
        return;
    memcpy(a, s, (size_t)(comma - s));
    a[comma - s] = '\0';
    if (co_parse_double(a, -1e6, 1e6, &lon) || co_parse_double(comma + 1, -1e6, 1e6, &lat))
        return;
    for (int crs = CO_CRS_WGS84; crs <= CO_CRS_BD09; crs++) {
        double x, y;
        if (co_coord_to_wgs84((co_crs)crs, lon, lat, &x, &y) == CO_OK &&
            (!isfinite(x) || !isfinite(y) || !co_coord_valid(x, y)))
            abort();
        if (co_coord_from_wgs84((co_crs)crs, lon, lat, &x, &y) == CO_OK &&
            (!isfinite(x) || !isfinite(y)))
            abort();
    }
    (void)co_coord_in_china(lon, lat);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 8192)
        return 0;
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    for (char *save = NULL, *line = strtok_r(s, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        fz_values(line);
        coords(line);
    }
    free(s);
    return 0;
}
