// CRC-32C with the CPU's instruction: eight bytes an instruction where the table in CRC32C.swift takes about
// twenty-five. Swift has no access to these instructions, hence this file.
#include "crc32c.h"

#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>

int tollgate_crc32c_hardware(void) {
    unsigned int a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    return (c & bit_SSE4_2) != 0;
}

__attribute__((target("sse4.2")))
uint32_t tollgate_crc32c_update(uint32_t state, const uint8_t *bytes, size_t count) {
    uint64_t crc = state;
    while (count >= 8) {
        uint64_t word;
        memcpy(&word, bytes, 8);
        crc = __builtin_ia32_crc32di(crc, word);
        bytes += 8;
        count -= 8;
    }
    uint32_t tail = (uint32_t)crc;
    while (count > 0) {
        tail = __builtin_ia32_crc32qi(tail, *bytes);
        bytes += 1;
        count -= 1;
    }
    return tail;
}

#elif defined(__aarch64__)
#include <sys/auxv.h>
#ifndef HWCAP_CRC32
#define HWCAP_CRC32 (1 << 7)
#endif

int tollgate_crc32c_hardware(void) { return (getauxval(AT_HWCAP) & HWCAP_CRC32) != 0; }

__attribute__((target("crc")))
uint32_t tollgate_crc32c_update(uint32_t state, const uint8_t *bytes, size_t count) {
    uint32_t crc = state;
    while (count >= 8) {
        uint64_t word;
        memcpy(&word, bytes, 8);
        crc = __builtin_arm_crc32cd(crc, word);
        bytes += 8;
        count -= 8;
    }
    while (count > 0) {
        crc = __builtin_arm_crc32cb(crc, *bytes);
        bytes += 1;
        count -= 1;
    }
    return crc;
}

#else

int tollgate_crc32c_hardware(void) { return 0; }

uint32_t tollgate_crc32c_update(uint32_t state, const uint8_t *bytes, size_t count) {
    (void)bytes;
    (void)count;
    return state;
}

#endif
