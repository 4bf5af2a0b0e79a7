package io.basalt.service.engine.ec;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;

/**
 * Intel's ISA-L ({@code libisal.so.2}, Debian's {@code libisal2}) through java.lang.foreign: its
 * SIMD kernels (SSE, AVX2 or AVX-512, chosen by ISA-L at run time) do the bulk work. Four functions
 * of {@code erasure_code.h} are used: {@code gf_gen_cauchy1_matrix}, {@code gf_invert_matrix},
 * {@code ec_init_tables} (32 bytes of lookup tables per coefficient) and {@code ec_encode_data}.
 */
final class IsalKernel implements CodingKernel<MemorySegment> {
    static final String LIBRARY = "libisal.so.2";
    /** ISA-L's tables: 32 bytes per coefficient (products of the low and of the high nibble). */
    private static final int TABLE_BYTES_PER_COEFFICIENT = 32;
    private static final int MAX_POINTERS = ReedSolomonCoder.MAX_CHUNKS;

    private final MethodHandle genCauchy;
    private final MethodHandle invertMatrix;
    private final MethodHandle initTables;
    private final MethodHandle encodeData;
    /**
     * The arrays of chunk addresses {@code ec_encode_data} takes ({@code unsigned char **}), one pair
     * per thread so that a call allocates nothing; freed with the thread.
     */
    private final ThreadLocal<MemorySegment[]> pointers = ThreadLocal.withInitial(() -> {
        Arena arena = Arena.ofAuto();
        return new MemorySegment[] {arena.allocate(ValueLayout.ADDRESS, MAX_POINTERS),
                arena.allocate(ValueLayout.ADDRESS, MAX_POINTERS)};
    });

    private IsalKernel(SymbolLookup isal) {
        Linker linker = Linker.nativeLinker();
        genCauchy = linker.downcallHandle(isal.find("gf_gen_cauchy1_matrix").orElseThrow(),
                FunctionDescriptor.ofVoid(ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
        invertMatrix = linker.downcallHandle(isal.find("gf_invert_matrix").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS,
                        ValueLayout.JAVA_INT));
        initTables = linker.downcallHandle(isal.find("ec_init_tables").orElseThrow(),
                FunctionDescriptor.ofVoid(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
                        ValueLayout.ADDRESS));
        // Critical: no thread-state transition around the call, which matters at 4 KiB chunks. Allowed
        // because the call neither blocks nor calls back into Java, and it is short: it runs at
        // gigabytes per second over chunks no longer than a segment.
        encodeData = linker.downcallHandle(isal.find("ec_encode_data").orElseThrow(),
                FunctionDescriptor.ofVoid(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                        ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS),
                Linker.Option.critical(false));
    }

    /**
     * Loads ISA-L from {@code library} ({@link #LIBRARY}; tests name others).
     *
     * @throws UnsupportedOperationException with the reason if the library or one of its functions is missing
     */
    static IsalKernel load(String library) {
        try {
            return new IsalKernel(SymbolLookup.libraryLookup(library, Arena.global()));
        } catch (IllegalArgumentException | java.util.NoSuchElementException e) {
            throw new UnsupportedOperationException(library + " cannot be loaded (Debian package libisal2): "
                    + e.getMessage(), e);
        }
    }

    @Override
    public String name() {
        return "ISA-L";
    }

    @Override
    public byte[] cauchyMatrix(int k, int m) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment matrix = arena.allocate((long) (k + m) * k);
            genCauchy.invokeExact(matrix, k + m, k);
            return matrix.toArray(ValueLayout.JAVA_BYTE);
        } catch (Throwable e) {
            throw unexpected(e);
        }
    }

    @Override
    public boolean invert(byte[] matrix, byte[] inverse, int n) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment in = arena.allocateFrom(ValueLayout.JAVA_BYTE, matrix);
            MemorySegment out = arena.allocate((long) n * n);
            int status = (int) invertMatrix.invokeExact(in, out, n);
            MemorySegment.copy(out, ValueLayout.JAVA_BYTE, 0, inverse, 0, n * n);
            return status == 0;
        } catch (Throwable e) {
            throw unexpected(e);
        }
    }

    @Override
    public MemorySegment prepare(int k, int rows, byte[] coefficients) {
        // Automatic arena: a decode plan's tables are freed when the plan cache drops the plan.
        Arena arena = Arena.ofAuto();
        MemorySegment tables = arena.allocate((long) TABLE_BYTES_PER_COEFFICIENT * k * rows, 32);
        try (Arena scratch = Arena.ofConfined()) {
            initTables.invokeExact(k, rows, scratch.allocateFrom(ValueLayout.JAVA_BYTE, coefficients), tables);
        } catch (Throwable e) {
            throw unexpected(e);
        }
        return tables;
    }

    @Override
    public void apply(MemorySegment tables, int k, int rows, int length, ByteBuffer[] inputs, int[] inputIndexes,
                      ByteBuffer[] outputs, int[] outputIndexes) {
        MemorySegment[] scratch = pointers.get();
        MemorySegment sources = scratch[0];
        MemorySegment destinations = scratch[1];
        for (int j = 0; j < k; j++) {
            sources.setAtIndex(ValueLayout.JAVA_LONG, j, MemorySegment.ofBuffer(inputs[inputIndexes[j]]).address());
        }
        for (int r = 0; r < rows; r++) {
            destinations.setAtIndex(ValueLayout.JAVA_LONG, r,
                    MemorySegment.ofBuffer(outputs[outputIndexes[r]]).address());
        }
        try {
            encodeData.invokeExact(length, k, rows, tables, sources, destinations);
        } catch (Throwable e) {
            throw unexpected(e);
        } finally {
            // ISA-L holds the buffers' raw addresses: they must not be collected before it returns.
            Reference.reachabilityFence(inputs);
            Reference.reachabilityFence(outputs);
        }
    }

    private static IllegalStateException unexpected(Throwable e) {
        return new IllegalStateException("ISA-L call failed: " + e, e);
    }
}
