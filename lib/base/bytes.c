/* bytes: big-endian integers and CRC-32 (bytes.h). */
#include "config.h"

#include "bytes.h"

uint64_t be_get(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

void be_put(uint8_t *p, uint64_t v, size_t n)
{
	for (size_t i = n; i > 0; i--) {
		p[i - 1] = (uint8_t)(v & 0xff);
		v >>= 8;
	}
}

/* Four bits at a time: the CRC of each nibble under the reflected
 * polynomial 0xEDB88320 (a login checks about 3 KB of slots; bit by bit
 * that was 3 % of a login). */
static const uint32_t crc32_nibble[16] = {
    0x00000000U, 0x1DB71064U, 0x3B6E20C8U, 0x26D930ACU, 0x76DC4190U, 0x6B6B51F4U,
    0x4DB26158U, 0x5005713CU, 0xEDB88320U, 0xF00F9344U, 0xD6D6A3E8U, 0xCB61B38CU,
    0x9B64C2B0U, 0x86D3D2D4U, 0xA00AE278U, 0xBDBDF21CU,
};

uint32_t crc32_add(uint32_t crc, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		crc = (crc >> 4) ^ crc32_nibble[crc & 15U];
		crc = (crc >> 4) ^ crc32_nibble[crc & 15U];
	}
	return crc;
}
