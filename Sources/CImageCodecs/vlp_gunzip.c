/* gzip decompression through zlib: one or more concatenated members, zero padding allowed. */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "vlp_codec_internal.h"

static int only_zeros(const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0) return 0;
    return 1;
}

int vlp_gunzip(const uint8_t *in, size_t n, size_t max_out, uint8_t **out, size_t *outn, char *err, size_t errcap) {
    if (out == NULL || outn == NULL || (in == NULL && n > 0))
        return vlp_fail(VLP_ERR_ARGUMENT, err, errcap, "invalid arguments to gunzip");
    *out = NULL;
    *outn = 0;
    if (n == 0) return vlp_fail(VLP_ERR_EMPTY, err, errcap, "zero-byte input");
    if (n < 2 || in[0] != 0x1F || in[1] != 0x8B)
        return vlp_fail(VLP_ERR_UNKNOWN_FORMAT, err, errcap, "not gzip data (no 1F 8B magic)");

    size_t cap = n < SIZE_MAX / 4 ? n * 4 : n;
    if (cap < 4096) cap = 4096;
    /* One byte past the limit: output that fills it exactly is still told from output over it. */
    size_t hard_cap = max_out < SIZE_MAX ? max_out + 1 : max_out;
    if (cap > hard_cap) cap = hard_cap;
    uint8_t *buffer = malloc(cap);
    if (buffer == NULL) return vlp_fail(VLP_ERR_NO_MEMORY, err, errcap, "no memory for %zu bytes", cap);
    size_t produced = 0, consumed = 0;

    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {   /* 16+: gzip wrapper only */
        free(buffer);
        return vlp_fail(VLP_ERR_NO_MEMORY, err, errcap, "inflateInit2 failed");
    }
    int rc = VLP_OK;
    for (;;) {
        /* zlib counts in uInt: feed and drain in chunks of at most 1 GiB. */
        size_t in_left = n - consumed;
        z.next_in = (Bytef *)(in + consumed);
        z.avail_in = (uInt)(in_left > (1u << 30) ? (1u << 30) : in_left);
        if (produced == cap) {
            if (cap >= hard_cap) {
                rc = vlp_fail(VLP_ERR_TOO_LARGE, err, errcap, "decompresses to more than the limit of %zu bytes", max_out);
                break;
            }
            size_t grown_cap = cap > hard_cap / 2 ? hard_cap : cap * 2;
            uint8_t *grown = realloc(buffer, grown_cap);
            if (grown == NULL) { rc = vlp_fail(VLP_ERR_NO_MEMORY, err, errcap, "no memory for %zu bytes", grown_cap); break; }
            buffer = grown;
            cap = grown_cap;
        }
        size_t out_left = cap - produced;
        z.next_out = buffer + produced;
        z.avail_out = (uInt)(out_left > (1u << 30) ? (1u << 30) : out_left);
        uInt avail_in_before = z.avail_in, avail_out_before = z.avail_out;
        int status = inflate(&z, Z_NO_FLUSH);
        consumed += avail_in_before - z.avail_in;
        produced += avail_out_before - z.avail_out;
        if (status == Z_STREAM_END) {
            size_t rest = n - consumed;
            if (rest == 0 || only_zeros(in + consumed, rest)) break;
            if (rest >= 2 && in[consumed] == 0x1F && in[consumed + 1] == 0x8B) {
                inflateReset(&z);   /* another member follows */
                continue;
            }
            rc = vlp_fail(VLP_ERR_CORRUPT, err, errcap, "%zu bytes of trailing garbage after gzip member", rest);
            break;
        }
        if (status == Z_OK) continue;
        if (status == Z_BUF_ERROR) {
            if (consumed == n) {
                rc = vlp_fail(VLP_ERR_TRUNCATED, err, errcap, "truncated gzip data after %zu bytes", n);
                break;
            }
            continue;   /* no progress possible only because the output window was full */
        }
        rc = vlp_fail(status == Z_MEM_ERROR ? VLP_ERR_NO_MEMORY : VLP_ERR_CORRUPT, err, errcap,
                      "corrupt gzip data: %s", z.msg ? z.msg : "inflate failed");
        break;
    }
    inflateEnd(&z);
    if (rc == VLP_OK && produced > max_out)
        rc = vlp_fail(VLP_ERR_TOO_LARGE, err, errcap, "decompresses to more than the limit of %zu bytes", max_out);
    if (rc != VLP_OK) {
        free(buffer);
        return rc;
    }
    *out = buffer;
    *outn = produced;
    return VLP_OK;
}
