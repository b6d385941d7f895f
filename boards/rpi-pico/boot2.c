/*
 * boot2.c - RP2040 second-stage boot loader. The boot ROM copies the first 256 bytes of flash
 * to SRAM at 0x20041F00 and runs them if the last 4 bytes are the CRC-32 (polynomial
 * 0x04C11DB7, initial value 0xFFFFFFFF, not reflected, no final XOR) of the first 252.
 *
 * This one keeps the flash interface as the boot ROM left it and asks the ROM's own
 * flash_enter_cmd_xip() to map flash for execute-in-place with plain 03h serial reads (slow
 * but every QSPI flash supports it), then starts the firmware whose vector table follows at
 * 0x10000100. mcuforge builds it with boot2.ld, pads it to 252 bytes, appends the CRC and
 * writes the 256 bytes as a C array into the .boot2 section (boot2_image.c).
 */
#include <stdint.h>

#define ROM_FUNC_TABLE 0x00000014u   /* halfword: pointer to the public function table */
#define ROM_TABLE_LOOKUP 0x00000018u /* halfword: pointer to rom_table_lookup() */
#define VTOR 0xE000ED08u
#define FIRMWARE_VECTORS 0x10000100u

typedef void *(*rom_lookup_fn)(uint16_t *table, uint32_t code);
typedef void (*rom_void_fn)(void);

/* A halfword of the boot ROM. The address goes through an empty asm so that GCC does not
 * treat a read near address 0 as a null-pointer access. */
static inline uint32_t rom_hword(uint32_t address)
{
    __asm__("" : "+r"(address));
    return *(const volatile uint16_t *)(uintptr_t)address;
}

__attribute__((section(".entry"), noreturn, used)) void boot2_entry(void)
{
    const rom_lookup_fn lookup = (rom_lookup_fn)(uintptr_t)rom_hword(ROM_TABLE_LOOKUP);
    uint16_t *const table = (uint16_t *)(uintptr_t)rom_hword(ROM_FUNC_TABLE);
    const rom_void_fn enter_xip = (rom_void_fn)lookup(table, (uint32_t)'C' | ((uint32_t)'X' << 8));
    const uint32_t *const vectors = (const uint32_t *)FIRMWARE_VECTORS;
    enter_xip();
    *(volatile uint32_t *)VTOR = FIRMWARE_VECTORS;
    __asm__ volatile("msr msp, %0\n\tbx %1" : : "r"(vectors[0]), "r"(vectors[1]) : "memory");
    for (;;) {
    }
}
