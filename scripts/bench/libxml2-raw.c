/*
 * The baseline for scripts/bench-parser: libxml2's SAX2 push parser with an empty handler,
 * fed the same file in the same chunk size as the Swift ParserBenchmark. Whatever the Swift
 * parser costs above this is the cost of building element trees and events.
 *
 * Usage: libxml2-raw FILE [ROUNDS=5] [CHUNK=16384]
 * Prints: raw-libxml2 bytes=N seconds=S rounds=R chunk=C
 * (bytes is the file size; seconds the total over the timed rounds, after one untimed warm-up.)
 */
#include <libxml/parser.h>
#include <libxml/xmlversion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static char *read_file(const char *path, size_t *size) {
    FILE *file = fopen(path, "rb");
    if (!file) { perror(path); exit(2); }
    if (fseek(file, 0, SEEK_END) != 0) { perror(path); exit(2); }
    long length = ftell(file);
    if (length < 0) { perror(path); exit(2); }
    rewind(file);
    char *buffer = malloc((size_t)length + 1);
    if (!buffer) { fprintf(stderr, "out of memory\n"); exit(2); }
    if (fread(buffer, 1, (size_t)length, file) != (size_t)length) { perror(path); exit(2); }
    fclose(file);
    *size = (size_t)length;
    return buffer;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* One full pass over the buffer; returns 0 when libxml2 reported no error. */
static int parse_once(const char *data, size_t size, size_t chunk) {
    xmlSAXHandler handler;
    memset(&handler, 0, sizeof handler);
    handler.initialized = XML_SAX2_MAGIC;
    xmlParserCtxtPtr context = xmlCreatePushParserCtxt(&handler, NULL, NULL, 0, NULL);
    if (!context) return -1;
    xmlCtxtUseOptions(context, XML_PARSE_NONET);
    int status = 0;
    for (size_t offset = 0; offset < size && status == 0; offset += chunk) {
        size_t length = size - offset < chunk ? size - offset : chunk;
        status = xmlParseChunk(context, data + offset, (int)length, 0);
    }
    if (status == 0) status = xmlParseChunk(context, NULL, 0, 1);
    int wellFormed = context->wellFormed;
    xmlFreeParserCtxt(context);
    return (status == 0 && wellFormed) ? 0 : -1;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE [ROUNDS] [CHUNK]\n", argv[0]);
        return 2;
    }
    int rounds = argc > 2 ? atoi(argv[2]) : 5;
    long chunk = argc > 3 ? atol(argv[3]) : 16384;
    if (rounds < 1 || chunk < 1) { fprintf(stderr, "bad ROUNDS or CHUNK\n"); return 2; }

    LIBXML_TEST_VERSION
    xmlInitParser();
    size_t size;
    char *data = read_file(argv[1], &size);

    if (parse_once(data, size, (size_t)chunk) != 0) {  /* warm-up, untimed */
        fprintf(stderr, "raw-libxml2: the file is not well-formed XML\n");
        return 1;
    }
    double start = now();
    for (int round = 0; round < rounds; round++) {
        if (parse_once(data, size, (size_t)chunk) != 0) {
            fprintf(stderr, "raw-libxml2: parse failed in round %d\n", round);
            return 1;
        }
    }
    double seconds = now() - start;
    printf("raw-libxml2 bytes=%zu seconds=%.6f rounds=%d chunk=%ld\n", size, seconds, rounds, chunk);
    free(data);
    xmlCleanupParser();
    return 0;
}
