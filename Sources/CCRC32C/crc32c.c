// CRC-32C with the CPU's instruction: eight bytes an instruction where the table in CRC32C.swift takes about
// twenty-five. Swift has no access to these instructions, hence this file.
#include "crc32c.h"

#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>

#define CRC32C_TARGET __attribute__((target("sse4.2")))

int tollgate_crc32c_hardware(void) {
    unsigned int a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    return (c & bit_SSE4_2) != 0;
}

static inline CRC32C_TARGET uint32_t step8(uint32_t crc, uint64_t word) {
    return (uint32_t)__builtin_ia32_crc32di(crc, word);
}

static inline CRC32C_TARGET uint32_t step1(uint32_t crc, uint8_t byte) { return __builtin_ia32_crc32qi(crc, byte); }

#elif defined(__aarch64__)
#include <sys/auxv.h>
#ifndef HWCAP_CRC32
#define HWCAP_CRC32 (1 << 7)
#endif

#define CRC32C_TARGET __attribute__((target("crc")))

int tollgate_crc32c_hardware(void) { return (getauxval(AT_HWCAP) & HWCAP_CRC32) != 0; }

static inline CRC32C_TARGET uint32_t step8(uint32_t crc, uint64_t word) { return __builtin_arm_crc32cd(crc, word); }

static inline CRC32C_TARGET uint32_t step1(uint32_t crc, uint8_t byte) { return __builtin_arm_crc32cb(crc, byte); }

#endif

#ifdef CRC32C_TARGET

CRC32C_TARGET uint32_t tollgate_crc32c_update(uint32_t state, const uint8_t *bytes, size_t count) {
    uint32_t crc = state;
    for (; count >= 8; bytes += 8, count -= 8) {
        uint64_t word;
        memcpy(&word, bytes, 8);
        crc = step8(crc, word);
    }
    for (; count > 0; bytes += 1, count -= 1) crc = step1(crc, *bytes);
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
