/*
 * mf_counter_systick.c - a 32-bit tick counter from SysTick (present on every Cortex-M).
 *
 * SysTick counts down from its 24-bit reload value on the processor clock (CLKSOURCE = 1); its
 * interrupt counts wraps, and a reading is wraps * 2^24 + elapsed ticks of the current period,
 * taken modulo 2^32. Under QEMU with -icount shift=0 virtual time advances exactly 1 ns per
 * guest instruction and SysTick ticks every 1e9 / MF_BOARD_CPU_HZ ns, so the difference of two
 * readings times that period is the instruction count between them, to within one tick; the
 * same firmware and input give the same count on every run.
 */
#include "mf_board.h"

#define SYST_CSR 0xE000E010u
#define SYST_RVR 0xE000E014u
#define SYST_CVR 0xE000E018u
#define SYST_CSR_ENABLE (1u << 0)
#define SYST_CSR_TICKINT (1u << 1)
#define SYST_CSR_CLKSOURCE (1u << 2)
#define SYST_RELOAD 0x00FFFFFFu
#define SCB_ICSR 0xE000ED04u
#define ICSR_PENDSTSET (1u << 26)
#define ICSR_PENDSTCLR (1u << 25)

/* Times the counter reached 0 (each end of a 2^24-tick period), counted by the interrupt. */
static volatile uint32_t wraps;

void SysTick_Handler(void)
{
    wraps = wraps + 1u;
}

void mf_counter_init(void)
{
    MF_REG32(SYST_CSR) = 0u;
    MF_REG32(SYST_RVR) = SYST_RELOAD;
    MF_REG32(SYST_CVR) = 0u; /* any write clears the current value */
    MF_REG32(SYST_CSR) = SYST_CSR_ENABLE | SYST_CSR_TICKINT | SYST_CSR_CLKSOURCE;
    while (MF_REG32(SYST_CVR) == 0u) { /* wait for the first reload */
    }
    MF_REG32(SCB_ICSR) = ICSR_PENDSTCLR;
    wraps = 0u;
}

/*
 * Period k starts with the counter at SYST_RELOAD at tick k * 2^24 and ends with it at 0 one
 * tick before period k + 1, which is when the interrupt fires. With interrupts masked, a wrap
 * that has happened but is not yet counted shows as a pending SysTick: count it here.
 */
uint32_t mf_counter_read(void)
{
    uint32_t primask;
    uint32_t n;
    uint32_t value;
    __asm__ volatile("mrs %0, primask\n\tcpsid i" : "=r"(primask)::"memory");
    n = wraps;
    value = MF_REG32(SYST_CVR);
    if ((MF_REG32(SCB_ICSR) & ICSR_PENDSTSET) != 0u) {
        n += 1u;
        value = MF_REG32(SYST_CVR);
    }
    __asm__ volatile("msr primask, %0" ::"r"(primask) : "memory");
    return value == 0u ? (n << 24) - 1u : (n << 24) + (SYST_RELOAD - value);
}
