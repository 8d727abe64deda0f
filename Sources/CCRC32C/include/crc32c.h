#ifndef TOLLGATE_CRC32C_H
#define TOLLGATE_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/// Nonzero when this CPU has a CRC-32C instruction `tollgate_crc32c_update` can use (SSE 4.2 on x86-64, the CRC
/// extension on arm64).
int tollgate_crc32c_hardware(void);

/// Continues a running CRC-32C (reflected, polynomial 0x82F63B78; no initial or final inversion here) over `count`
/// bytes with the CPU's instruction. Only call it when `tollgate_crc32c_hardware()` is nonzero.
uint32_t tollgate_crc32c_update(uint32_t state, const uint8_t *bytes, size_t count);

#endif
