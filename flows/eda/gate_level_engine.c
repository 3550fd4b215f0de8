/* spikefab's compiled gate-level simulation of a mapped netlist (flows/eda/compiled_gate_level.py
 * writes its input and reads its output).
 *
 * Zero delay, two states, cycle by cycle: on the rising edge every flip-flop takes its next state and
 * every SRAM macro reads and writes (from the values settled before the edge), then the combinational
 * cells are evaluated once each in topological order; on the falling edge the testbench samples the
 * outputs and drives the inputs, and the cells settle again. A net toggles when its settled value
 * differs from its previous settled value: rises and falls are counted per net and per window (one
 * window per inference, closed when its result is taken). The testbench mirrors the Icarus one in
 * flows/eda/gate_level.py: inputs driven on the falling edge, in_ready and the result sampled there.
 *
 * Input (little-endian int32 unless stated): see the writer, CompiledDesign.write.
 * Output: results.txt, one line per result: "<falling edges since reset> <payload hex>";
 *         counts.bin, per window: rises then falls, uint32 per net;
 *         accesses.bin, per window: reads then writes, uint32 per SRAM macro (the rising edges with its
 *         read or write enable high, after reset), so that the macro model's access counts are checked
 *         against the accesses the netlist makes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_INPUTS 6

static FILE *in;

static int32_t read_int(void) {
    int32_t x;
    if (fread(&x, sizeof x, 1, in) != 1) { fprintf(stderr, "design file ends early\n"); exit(2); }
    return x;
}

static void *read_array(size_t count, size_t size) {
    void *p = calloc(count ? count : 1, size);
    if (!p) { fprintf(stderr, "out of memory\n"); exit(2); }
    if (count && fread(p, size, count, in) != count) { fprintf(stderr, "design file ends early\n"); exit(2); }
    return p;
}

static int32_t *read_ints(size_t count) { return read_array(count, sizeof(int32_t)); }

typedef struct {
    int32_t width, depth, writable, read_en, address_bits, write_en;
    int32_t *read_addr, *read_data, *write_addr, *write_data;
    uint8_t *bits;      /* depth x width */
    uint8_t *next;      /* width: the word read on this edge */
    int32_t reading;
} Macro;

static uint8_t *v;
static uint32_t *rises, *falls;
/* Event-driven settling: a cell is evaluated only when one of its inputs changed. The cells are in
 * topological order, so a change marks only cells further on, and one pass settles everything. */
static uint8_t *dirty;
static int32_t *fanout_start, *fanout;

static inline void set_net(int32_t n, uint8_t value) {
    if (v[n] != value) {
        v[n] = value;
        if (value) rises[n]++; else falls[n]++;
        for (int32_t i = fanout_start[n]; i < fanout_start[n + 1]; i++) dirty[fanout[i]] = 1;
    }
}

static int32_t n_comb, *comb_n_in, *comb_in, *comb_out;
static uint64_t *comb_table;

static void settle(void) {
    int32_t c = 0;
    while (c < n_comb) {
        if ((c & 7) == 0 && c + 8 <= n_comb) {  /* skip eight quiet cells at a time */
            uint64_t word;
            memcpy(&word, dirty + c, sizeof word);
            if (!word) { c += 8; continue; }
        }
        if (dirty[c]) {
            dirty[c] = 0;
            const int32_t *inputs = comb_in + (size_t)c * MAX_INPUTS;
            uint32_t index = 0;
            for (int32_t k = 0; k < comb_n_in[c]; k++) index |= (uint32_t)v[inputs[k]] << k;
            set_net(comb_out[c], (uint8_t)(comb_table[c] >> index & 1));
        }
        c++;
    }
}

static void build_fanout(int32_t n_nets) {
    fanout_start = calloc((size_t)n_nets + 1, sizeof(int32_t));
    for (int32_t c = 0; c < n_comb; c++)
        for (int32_t k = 0; k < comb_n_in[c]; k++) fanout_start[comb_in[(size_t)c * MAX_INPUTS + k] + 1]++;
    for (int32_t n = 0; n < n_nets; n++) fanout_start[n + 1] += fanout_start[n];
    int32_t *fill = malloc(((size_t)n_nets + 1) * sizeof(int32_t));
    memcpy(fill, fanout_start, ((size_t)n_nets + 1) * sizeof(int32_t));
    fanout = malloc(((size_t)fanout_start[n_nets] + 1) * sizeof(int32_t));
    for (int32_t c = 0; c < n_comb; c++)
        for (int32_t k = 0; k < comb_n_in[c]; k++) fanout[fill[comb_in[(size_t)c * MAX_INPUTS + k]]++] = c;
    free(fill);
    dirty = malloc(n_comb ? n_comb : 1);
    memset(dirty, 1, n_comb ? n_comb : 1);  /* the first settle evaluates every cell */
}

static uint64_t address(const int32_t *nets, int32_t bits) {
    uint64_t a = 0;
    for (int32_t k = 0; k < bits; k++) a |= (uint64_t)v[nets[k]] << k;
    return a;
}

int main(int argc, char **argv) {
    if (argc != 5) { fprintf(stderr, "usage: %s design.bin results.txt counts.bin accesses.bin\n", argv[0]); return 2; }
    in = fopen(argv[1], "rb");
    if (!in) { perror(argv[1]); return 2; }
    int32_t n_nets = read_int();
    n_comb = read_int();
    comb_n_in = read_ints(n_comb);
    comb_in = read_ints((size_t)n_comb * MAX_INPUTS);
    comb_out = read_ints(n_comb);
    comb_table = read_array(n_comb, sizeof(uint64_t));
    int32_t n_ff = read_int();
    int32_t *ff_n_in = read_ints(n_ff);
    int32_t *ff_in = read_ints((size_t)n_ff * MAX_INPUTS);
    int32_t *ff_state = read_ints(n_ff);
    uint64_t *ff_table = read_array(n_ff, sizeof(uint64_t));
    int32_t n_macros = read_int();
    Macro *macros = calloc(n_macros ? n_macros : 1, sizeof(Macro));
    for (int32_t m = 0; m < n_macros; m++) {
        Macro *x = &macros[m];
        x->width = read_int(); x->depth = read_int(); x->writable = read_int();
        x->address_bits = read_int();
        x->read_en = read_int();
        x->read_addr = read_ints(x->address_bits);
        x->read_data = read_ints(x->width);
        x->write_en = read_int();
        x->write_addr = read_ints(x->address_bits);
        x->write_data = read_ints(x->width);
        x->bits = read_array((size_t)x->depth * x->width, 1);
        x->next = calloc(x->width, 1);
    }
    int32_t clk = read_int(), rst = read_int(), in_valid = read_int(), in_ready = read_int();
    int32_t payload_bits = read_int();
    int32_t *payload = read_ints(payload_bits);
    int32_t result_valid = read_int(), result_ready = read_int();
    int32_t result_bits = read_int();
    int32_t *result = read_ints(result_bits);
    int32_t n_entries = read_int();
    uint8_t *entries = read_array((size_t)n_entries * payload_bits, 1);
    int32_t reset_cycles = read_int(), images = read_int();
    int64_t max_cycles = read_int();
    fclose(in);

    v = calloc(n_nets, 1);
    build_fanout(n_nets);
    rises = calloc(n_nets, sizeof(uint32_t));
    falls = calloc(n_nets, sizeof(uint32_t));
    uint8_t *ff_next = calloc(n_ff ? n_ff : 1, 1);
    uint32_t *accesses = calloc(2 * (size_t)(n_macros ? n_macros : 1), sizeof(uint32_t));  /* reads, then writes */
    FILE *results_file = fopen(argv[2], "w"), *counts_file = fopen(argv[3], "wb"), *accesses_file = fopen(argv[4], "wb");
    if (!results_file || !counts_file || !accesses_file) { perror("output"); return 2; }
    v[1] = 1;
    v[rst] = 1;
    settle();  /* the power-up state: 0 in every state element, the logic settled on it */

    int64_t position = 0, cycle = 0;
    int32_t taken = 0;
    for (int64_t edge = 0;; edge++) {
        int resetting = edge < reset_cycles;
        /* Rising edge: every state element takes its next value from the settled values. */
        for (int32_t f = 0; f < n_ff; f++) {
            const int32_t *inputs = ff_in + (size_t)f * MAX_INPUTS;
            uint32_t index = 0;
            for (int32_t k = 0; k < ff_n_in[f]; k++) index |= (uint32_t)v[inputs[k]] << k;
            ff_next[f] = (uint8_t)(ff_table[f] >> index & 1);
        }
        for (int32_t m = 0; m < n_macros; m++) {
            Macro *x = &macros[m];
            x->reading = v[x->read_en];
            if (!resetting) {
                accesses[m] += x->reading;
                accesses[n_macros + m] += x->writable && v[x->write_en];
            }
            if (x->reading) {
                uint64_t a = address(x->read_addr, x->address_bits);
                /* An address past the end reads 0 (a Verilog model reads x there). */
                for (int32_t b = 0; b < x->width; b++) x->next[b] = a < (uint64_t)x->depth ? x->bits[a * x->width + b] : 0;
            }
            if (x->writable && v[x->write_en]) {
                uint64_t a = address(x->write_addr, x->address_bits);
                if (a < (uint64_t)x->depth)
                    for (int32_t b = 0; b < x->width; b++) x->bits[a * x->width + b] = v[x->write_data[b]];
            }
        }
        set_net(clk, 1);
        for (int32_t f = 0; f < n_ff; f++) set_net(ff_state[f], ff_next[f]);
        for (int32_t m = 0; m < n_macros; m++)
            if (macros[m].reading)
                for (int32_t b = 0; b < macros[m].width; b++) set_net(macros[m].read_data[b], macros[m].next[b]);
        settle();

        /* Falling edge: the testbench samples what settled, then drives. */
        int closing = 0;
        if (resetting) {
            set_net(rst, edge + 1 < reset_cycles);
        } else {
            cycle++;
            uint8_t ready = v[in_ready], valid = v[result_valid];
            if (position < n_entries) {
                set_net(in_valid, 1);
                const uint8_t *entry = entries + (size_t)position * payload_bits;
                for (int32_t b = 0; b < payload_bits; b++) set_net(payload[b], entry[b]);
                if (ready) position++;
            } else {
                set_net(in_valid, 0);
            }
            set_net(result_ready, valid);
            if (valid) {
                fprintf(results_file, "%lld ", (long long)cycle);
                for (int32_t digit = (result_bits + 3) / 4 - 1; digit >= 0; digit--) {
                    int value = 0;
                    for (int32_t b = 0; b < 4; b++) {
                        int32_t bit = digit * 4 + b;
                        if (bit < result_bits) value |= v[result[bit]] << b;
                    }
                    fputc("0123456789abcdef"[value], results_file);
                }
                fputc('\n', results_file);
                closing = 1;
            }
        }
        set_net(clk, 0);
        settle();
        if (resetting && edge + 1 == reset_cycles) {
            /* Counting starts once reset is released, as the VCD's dump does. */
            memset(rises, 0, (size_t)n_nets * sizeof(uint32_t));
            memset(falls, 0, (size_t)n_nets * sizeof(uint32_t));
        }
        if (closing) {
            fwrite(rises, sizeof(uint32_t), n_nets, counts_file);
            fwrite(falls, sizeof(uint32_t), n_nets, counts_file);
            fwrite(accesses, sizeof(uint32_t), 2 * (size_t)n_macros, accesses_file);
            memset(rises, 0, (size_t)n_nets * sizeof(uint32_t));
            memset(falls, 0, (size_t)n_nets * sizeof(uint32_t));
            memset(accesses, 0, 2 * (size_t)n_macros * sizeof(uint32_t));
            if (++taken == images) break;
        }
        if (cycle > max_cycles) {
            fprintf(stderr, "the gate-level simulation did not finish in %lld cycles\n", (long long)max_cycles);
            break;
        }
    }
    /* The last window: after the last result (empty when every result came). */
    fwrite(rises, sizeof(uint32_t), n_nets, counts_file);
    fwrite(falls, sizeof(uint32_t), n_nets, counts_file);
    fwrite(accesses, sizeof(uint32_t), 2 * (size_t)n_macros, accesses_file);
    fclose(results_file);
    fclose(counts_file);
    fclose(accesses_file);
    return taken == images ? 0 : 1;
}
