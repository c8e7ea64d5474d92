/* open311_xml.c — Spark JSON → GeoReport XML with libxml2's xmlTextWriter,
 * and the small text helpers of the Open311 adapter (statuses, which notes
 * are public, action texts, UTF-8 counting). See open311.h.
 * The writer works on a memory buffer; every libxml2 call is checked and
 * the first failure abandons the document. Text is copied through a filter
 * that replaces the control characters XML 1.0 cannot carry. */
#include <libxml/xmlwriter.h>
#include <stdio.h>
#include <string.h>

#include "api/open311.h"
#include "lib/alloc.h"
#include "lib/jsonw.h"

/* --------------------------------------------------------------- names */

const char *co_open311_item_name(const char *container, char *buf, size_t len)
{
    static const struct {
        const char *list, *item;
    } names[] = {
        {"service_requests", "request"},
        {"service_request_updates", "request_update"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(container, names[i].list))
            return names[i].item;
    size_t n = strlen(container);
    if (n > 1 && container[n - 1] == 's' && n < len) {
        memcpy(buf, container, n - 1);
        buf[n - 1] = '\0';
        return buf;
    }
    return "item";
}

/* ----------------------------------------------------------------- XML */

/* Writes s as element text, replacing characters XML 1.0 forbids. */
static int write_text(xmlTextWriterPtr w, const char *s)
{
    size_t n = strlen(s);
    int clean = 1;
    for (size_t i = 0; i < n && clean; i++)
        if ((unsigned char)s[i] < 0x20 && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
            clean = 0;
    if (clean)
        return xmlTextWriterWriteString(w, (const xmlChar *)s);
    char *copy = co_xstrdup(s);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)copy[i] < 0x20 && copy[i] != '\t' && copy[i] != '\n' &&
            copy[i] != '\r')
            copy[i] = ' ';
    int rc = xmlTextWriterWriteString(w, (const xmlChar *)copy);
    co_free(copy);
    return rc;
}

static int write_value(xmlTextWriterPtr w, const char *name, const json_t *v, int depth)
{
    char num[64], item[64];
    if (depth > 16 || xmlTextWriterStartElement(w, (const xmlChar *)name) < 0)
        return -1;
    int rc = 0;
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *key;
        const json_t *child;
        json_object_foreach((json_t *)v, key, child)
        {
            if ((rc = write_value(w, key, child, depth + 1)) < 0)
                return rc;
        }
        break;
    }
    case JSON_ARRAY: {
        const char *iname = co_open311_item_name(name, item, sizeof item);
        size_t i;
        const json_t *child;
        json_array_foreach(v, i, child)
        {
            if ((rc = write_value(w, iname, child, depth + 1)) < 0)
                return rc;
        }
        break;
    }
    case JSON_STRING:
        rc = write_text(w, json_string_value(v));
        break;
    case JSON_INTEGER:
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        rc = xmlTextWriterWriteString(w, (const xmlChar *)num);
        break;
    case JSON_REAL:
        snprintf(num, sizeof num, "%.15g", json_real_value(v));
        rc = xmlTextWriterWriteString(w, (const xmlChar *)num);
        break;
    case JSON_TRUE:
        rc = xmlTextWriterWriteString(w, (const xmlChar *)"true");
        break;
    case JSON_FALSE:
        rc = xmlTextWriterWriteString(w, (const xmlChar *)"false");
        break;
    case JSON_NULL:
        break;
    }
    if (rc < 0)
        return rc;
    return xmlTextWriterFullEndElement(w);
}

co_err co_open311_xml(const json_t *doc, const char *root, char **out, size_t *len)
{
    co_err rc = CO_EINTERNAL;
    *out = NULL;
    *len = 0;
    xmlBufferPtr buf = xmlBufferCreate();
    xmlTextWriterPtr w = buf ? xmlNewTextWriterMemory(buf, 0) : NULL;
    if (!w)
        goto out;
    if (xmlTextWriterStartDocument(w, "1.0", "UTF-8", NULL) < 0 ||
        write_value(w, root, doc, 0) < 0 || xmlTextWriterEndDocument(w) < 0)
        goto out;
    xmlFreeTextWriter(w); /* flushes into buf */
    w = NULL;
    *len = (size_t)xmlBufferLength(buf);
    *out = co_xstrndup((const char *)xmlBufferContent(buf), *len);
    rc = CO_OK;
out:
    if (w)
        xmlFreeTextWriter(w);
    if (buf)
        xmlBufferFree(buf);
    return rc;
}

/* --------------------------------------------------------------- texts */

const char *co_open311_status(co_state s)
{
    return co_state_is_open(s) ? "open" : "closed";
}

int co_open311_note_is_public(const char *action)
{
    static const char *const pub[] = {"answer", "handle", "close", "void", "merge", "reopen"};
    for (size_t i = 0; action && i < sizeof pub / sizeof pub[0]; i++)
        if (!strcmp(action, pub[i]))
            return 1;
    return 0;
}

const char *co_open311_action_text(const char *action)
{
    static const struct {
        const char *action, *text;
    } texts[] = {
        {"register", "已受理 / received"},
        {"verify_request", "已派监督员核实 / an inspector will check the report on site"},
        {"verify", "已现场核实 / checked on site"},
        {"reclassify", "已调整分类 / reclassified"},
        {"file", "已立案 / accepted as a case"},
        {"void", "已作废 / cancelled"},
        {"answer", "已答复 / answered"},
        {"merge", "已合并为重复案件 / merged as a duplicate"},
        {"unmerge", "已取消合并，单独办理 / no longer merged: handled on its own"},
        {"dispatch", "已派遣至责任单位 / sent to the responsible department"},
        {"accept", "责任单位已签收 / the department took it on"},
        {"send_back", "责任单位退回，待重新派遣 / returned for re-dispatch"},
        {"handle", "已处置 / the work is reported done"},
        {"request_extension", "责任单位申请延期 / the department asked for more time"},
        {"approve_extension", "处置期限已延长 / the deadline was extended"},
        {"reject_extension", "延期申请未获批准 / no extension granted"},
        {"request_suspension", "责任单位申请挂账 / the department asked to pause the work"},
        {"approve_suspension", "已挂账，暂停计时 / paused"},
        {"reject_suspension", "挂账申请未获批准 / the work goes on"},
        {"resume", "已恢复处置 / work resumed"},
        {"request_check", "已派监督员核查处置结果 / an inspector will check the work"},
        {"check_pass", "核查通过 / the work passed the check"},
        {"check_fail", "核查未通过，返工处置 / the work failed the check and will be redone"},
        {"close", "已结案 / closed"},
        {"reopen", "已重新办理 / reopened"},
        {"visit", "已回访 / follow-up call made"},
    };
    for (size_t i = 0; action && i < sizeof texts / sizeof texts[0]; i++)
        if (!strcmp(action, texts[i].action))
            return texts[i].text;
    return "已更新 / updated";
}

long co_open311_utf8_chars(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    long n = 0;
    while (*p) {
        size_t k = co_jsonw_utf8_seq(p);
        if (!k)
            return -1;
        p += k;
        n++;
    }
    return n;
}

void co_open311_utf8_fix(char *s)
{
    unsigned char *p = (unsigned char *)s;
    while (*p) {
        size_t k = co_jsonw_utf8_seq(p);
        if (k)
            p += k;
        else
            *p++ = '?';
    }
}
