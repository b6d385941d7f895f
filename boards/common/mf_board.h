/*
 * mf_board.h - what a firmware harness needs from a board: a console, a cycle counter, an
 * exit. One implementation per console kind (mf_console_*.c) and per counter kind
 * (mf_counter_*.c); the board description (board.json) says which files a board uses.
 * No vendor HAL: every driver writes the peripheral registers itself.
 */
#ifndef MF_BOARD_H
#define MF_BOARD_H

#include <stdint.h>

/* Console: init once, then write bytes. Output is line-buffered by mf_print.c. */
void mf_console_init(void);
void mf_console_write(const char *data, uint32_t length);

/* Leave the program. Semihosting boards (QEMU) end the emulator with status 0 (success) or
 * 1 (anything else); real boards print the status and stop in a loop. */
void mf_exit(int status) __attribute__((noreturn));

/*
 * A free-running 32-bit counter (wraps modulo 2^32; subtract two readings as uint32_t).
 *   systick: SysTick on the processor clock, extended to 32 bits by counting wraps in its
 *            interrupt. Under QEMU with -icount shift=0 the virtual clock advances 1 ns per
 *            instruction, so one tick is 1e9 / MF_BOARD_CPU_HZ instructions (40 on MPS2 at
 *            25 MHz): counts are deterministic, with a resolution of one tick.
 *   dwt:     DWT->CYCCNT, the core's cycle counter (Cortex-M3/M4/M7/M33/M55 hardware; QEMU
 *            does not model it).
 */
void mf_counter_init(void);
uint32_t mf_counter_read(void);

/* Line-buffered output helpers (mf_print.c). */
void mf_print(const char *s);
void mf_print_u32(uint32_t v);
void mf_print_i32(int32_t v);
void mf_print_hex32(uint32_t v);
void mf_print_hex_bytes(const int8_t *data, uint32_t length);
void mf_print_flush(void);

/* Memory-mapped register access. */
#define MF_REG32(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

#endif /* MF_BOARD_H */
