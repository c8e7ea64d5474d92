/* intake.h — turning a report from any channel into a validated case draft,
 * storing its photos, and handing it to the writer. Shared by the staff API
 * (POST /api/v1/cases), the citizens' page and Open311, so every channel is
 * validated, located and routed the same way. */
#ifndef CO_API_INTAKE_H
#define CO_API_INTAKE_H

#include <jansson.h>
#include <stddef.h>

#include "api/app.h"
#include "domain/case.h"
#include "http/req.h"

#define CO_MEDIA_MAX (10u << 20) /* 10 MiB per photo */
#define CO_INTAKE_ERR_MAX 256

/* Fills *draft from a JSON intake document:
 *   description (required), request_type, category ("C0101"/"E0102"),
 *   severity, location {lon, lat, crs}, area (a code), address (text, also
 *   matched to an area when there is no point), caller {name, phone},
 *   photos [media ids], channel (only where allowed).
 * Locates the case to grid/community/street/district. Returns CO_EINVAL
 * with err set (a 400), CO_ENOTFOUND when the point lies outside the city. */
co_err co_intake_parse(co_app *app, json_t *doc, co_channel channel, co_case *draft, char *err,
                       size_t errlen) CO_MUST_CHECK;

/* Locates a WGS84 point into the draft (grid and ancestors). */
co_err co_intake_locate(co_app *app, double lon, double lat, co_case *draft) CO_MUST_CHECK;

/* Checks an image (JPEG, PNG or WebP by magic bytes, ≤ CO_MEDIA_MAX) and
 * stores it content-addressed under DATA/media (durably: written to a
 * temporary file, fsynced, renamed). hash receives the 64-hex id; type the
 * detected MIME type. */
co_err co_media_save(co_app *app, const unsigned char *data, size_t len, char hash[65],
                     const char **type, char *err, size_t errlen) CO_MUST_CHECK;
/* Path of a stored media file. */
void co_media_path(const co_app *app, const char *hash, char *out, size_t len);

/* Submits the draft to the writer and replies 201 with the case (or the
 * error) when it is committed. reporter/role from the session when any. */
void co_intake_submit(co_req *r, const co_case *draft, int public_view);

/* JSON for a case as the API shows it to this request's user: names of the
 * department, category and areas, the traffic light, allowed actions. */
json_t *co_case_view(co_req *r, const co_case *c);
/* A reduced view for the public (no caller, no internal notes). */
json_t *co_case_public_view(co_req *r, const co_case *c);

#endif
