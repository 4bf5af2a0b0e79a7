package io.basalt.service.engine.ec;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.BiFunction;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Both coders, ISA-L's and the pure-Java one, against the same expectations: parity known from the
 * arithmetic, every erasure pattern rebuilt, byte-identical parity between the two, and refused
 * arguments. ISA-L must be installed (Debian package libisal2): these tests fail without it.
 */
class ErasureCoderTest {
    /** The layouts of every-pattern tests: the node defaults 2+1 and 4+2, and wider ones. */
    private static final int[][] LAYOUTS = {{1, 1}, {2, 1}, {2, 2}, {3, 2}, {4, 2}, {6, 3}, {8, 3}, {10, 4}};
    /** Lengths around ISA-L's and the Java coder's inner strides (8, 16, 32, 64 bytes) and real chunk sizes. */
    private static final int[] LENGTHS = {1, 7, 8, 15, 31, 32, 33, 63, 64, 65, 1000, 4096, 65536 + 5};

    private static ErasureCoder coder(String implementation, int k, int m) {
        return switch (implementation) {
            case "isal" -> ErasureCoders.isal(k, m);
            case "java" -> ErasureCoders.java(k, m);
            default -> throw new IllegalArgumentException(implementation);
        };
    }

    // ---- known answers -----------------------------------------------------------------------------

    /**
     * a·b by shift-and-add with reduction by 0x11d: another algorithm than the coders' (log and
     * exponent tables, ISA-L's nibble tables), to compute expected parity independently.
     */
    private static int slowMultiply(int a, int b) {
        int product = 0;
        while (b != 0) {
            if ((b & 1) != 0) {
                product ^= a;
            }
            a <<= 1;
            if ((a & 0x100) != 0) {
                a ^= 0x11d;
            }
            b >>= 1;
        }
        return product;
    }

    private static int slowInverse(int a) {
        for (int x = 1; x < 256; x++) {
            if (slowMultiply(a, x) == 1) {
                return x;
            }
        }
        throw new ArithmeticException("no inverse of " + a);
    }

    /**
     * Hand-derivable vectors: the Cauchy rows for 2+1 are 1/(2⊕0), 1/(2⊕1) = 1/2, 1/3 = 0x8e, 0xf4
     * (2·0x8e = 0x11c ⊕ 0x11d = 1; 3·0xf4 = 0xf4 ⊕ 0xf5 = 1), so data (1, 0) gives 0x8e and (0, 1)
     * gives 0xf4; the others were computed with {@link #slowMultiply}.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"isal", "java"})
    void knownAnswers(String implementation) {
        assertParity(implementation, 2, 1, new int[] {1, 0}, new int[] {0x8e});
        assertParity(implementation, 2, 1, new int[] {0, 1}, new int[] {0xf4});
        assertParity(implementation, 2, 1, new int[] {0x12, 0x34}, new int[] {0xee});
        assertParity(implementation, 4, 2, new int[] {1, 2, 3, 4}, new int[] {0x48, 0x0f});
        assertParity(implementation, 8, 3, new int[] {1, 2, 3, 4, 5, 6, 7, 8}, new int[] {0xf2, 0x9d, 0xb9});
    }

    /** Chunks each filled with one byte value give parity chunks each filled with the expected one. */
    private static void assertParity(String implementation, int k, int m, int[] data, int[] expected) {
        ErasureCoder coder = coder(implementation, k, m);
        for (int length : new int[] {1, 37, 4096}) {
            ByteBuffer[] chunks = new ByteBuffer[k];
            for (int j = 0; j < k; j++) {
                chunks[j] = filled(length, data[j]);
            }
            ByteBuffer[] parity = chunks(m, length);
            coder.encode(chunks, parity);
            for (int p = 0; p < m; p++) {
                assertArrayEquals(bytes(filled(length, expected[p])), bytes(parity[p]),
                        implementation + " " + k + "+" + m + " parity " + p + " of " + Arrays.toString(data)
                                + ", " + length + " bytes");
            }
        }
    }

    /** The Cauchy matrix and random stripes' parity against the slow reference arithmetic. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"isal", "java"})
    void parityMatchesTheReferenceArithmetic(String implementation) {
        Random random = new Random(12);
        for (int[] layout : LAYOUTS) {
            int k = layout[0];
            int m = layout[1];
            ErasureCoder coder = coder(implementation, k, m);
            ByteBuffer[] data = randomChunks(random, k, 333);
            ByteBuffer[] parity = chunks(m, 333);
            coder.encode(data, parity);
            for (int p = 0; p < m; p++) {
                for (int i = 0; i < 333; i++) {
                    int expected = 0;
                    for (int j = 0; j < k; j++) {
                        expected ^= slowMultiply(slowInverse((k + p) ^ j), data[j].get(i) & 0xff);
                    }
                    assertEquals(expected, parity[p].get(i) & 0xff, k + "+" + m + " parity " + p + " byte " + i);
                }
            }
        }
    }

    // ---- ISA-L and Java agree -----------------------------------------------------------------------

    @Test
    void bothCodersHaveTheSameMatrixAndWriteIdenticalParity() {
        Random random = new Random(7);
        List<int[]> layouts = new ArrayList<>(Arrays.asList(LAYOUTS));
        layouts.add(new int[] {16, 4});
        layouts.add(new int[] {128, 128});
        layouts.add(new int[] {250, 6});
        for (int[] layout : layouts) {
            int k = layout[0];
            int m = layout[1];
            ErasureCoder isal = ErasureCoders.isal(k, m);
            ErasureCoder java = ErasureCoders.java(k, m);
            assertArrayEquals(((ReedSolomonCoder<?>) isal).matrix(), ((ReedSolomonCoder<?>) java).matrix(),
                    k + "+" + m + " matrix");
            for (int length : k + m > 32 ? new int[] {1, 100} : LENGTHS) {
                ByteBuffer[] data = randomChunks(random, k, length);
                ByteBuffer[] isalParity = chunks(m, length);
                ByteBuffer[] javaParity = chunks(m, length);
                isal.encode(data, isalParity);
                java.encode(data, javaParity);
                for (int p = 0; p < m; p++) {
                    assertArrayEquals(bytes(isalParity[p]), bytes(javaParity[p]),
                            k + "+" + m + ", " + length + " bytes, parity " + p);
                }
            }
        }
    }

    /** ISA-L is installed where the tests run, and then it is the coder a node gets. */
    @Test
    void theNodeGetsIsalWhereItIsInstalled() {
        assertEquals(java.util.Optional.empty(), ErasureCoders.isalUnavailable());
        assertEquals("ISA-L", ErasureCoders.create(4, 2).implementation());
        assertEquals("Java", ErasureCoders.java(4, 2).implementation());
    }

    /** Where the library is missing, the reason names the Debian package (the node logs it and uses Java). */
    @Test
    void aMissingLibraryIsReportedWithThePackageToInstall() {
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                () -> IsalKernel.load("libisal-missing.so.2"));
        assertTrue(e.getMessage().startsWith("libisal-missing.so.2 cannot be loaded (Debian package libisal2): "),
                e.getMessage());
    }

    // ---- reconstruction -----------------------------------------------------------------------------

    /** Every pattern of 1 to m lost chunks, data or parity, of every layout, is rebuilt exactly. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"isal", "java"})
    void everyErasurePatternUpToMIsRebuilt(String implementation) {
        Random random = new Random(3);
        for (int[] layout : LAYOUTS) {
            int k = layout[0];
            int m = layout[1];
            ErasureCoder coder = coder(implementation, k, m);
            ByteBuffer[] stripe = encodedStripe(coder, random, 1000);
            List<int[]> patterns = patterns(k + m, m);
            for (int[] missing : patterns) {
                assertRebuilt(coder, stripe, missing, random);
            }
            assertEquals(expectedPatternCount(k + m, m), patterns.size());
        }
    }

    /** Random data, random patterns, chunk lengths across the coders' strides, chunks at odd positions. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"isal", "java"})
    void randomStripesOfManyLengthsAreRebuilt(String implementation) {
        Random random = new Random(5);
        for (int[] layout : new int[][] {{2, 1}, {4, 2}, {8, 3}}) {
            ErasureCoder coder = coder(implementation, layout[0], layout[1]);
            int n = layout[0] + layout[1];
            for (int length : LENGTHS) {
                ByteBuffer[] stripe = encodedStripe(coder, random, length);
                for (int round = 0; round < 5; round++) {
                    int[] missing = random.ints(0, n).distinct().limit(1 + random.nextInt(layout[1])).toArray();
                    assertRebuilt(coder, stripe, missing, random);
                }
            }
        }
    }

    /**
     * 16+4 has 6,195 patterns of up to 4 lost chunks, far more than the plan cache holds: plans evicted
     * and computed again still rebuild correctly.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"isal", "java"})
    void moreErasurePatternsThanTheCacheHoldsAreRebuilt(String implementation) {
        Random random = new Random(9);
        ErasureCoder coder = coder(implementation, 16, 4);
        ByteBuffer[] stripe = encodedStripe(coder, random, 40);
        List<int[]> patterns = patterns(20, 4);
        assertTrue(patterns.size() > 10 * DecodePlanCache.SLOTS);
        for (int pass = 0; pass < 2; pass++) {
            for (int[] missing : patterns) {
                assertRebuilt(coder, stripe, missing, random);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"isal", "java"})
    void onlyTheFirstKSurvivorsAreRead(String implementation) {
        ErasureCoder coder = coder(implementation, 4, 2);
        ByteBuffer[] stripe = encodedStripe(coder, new Random(1), 4096);
        ByteBuffer[] chunks = copy(stripe);
        chunks[1] = ByteBuffer.allocateDirect(4096);
        chunks[5] = null; // never read: sources are 0, 2, 3 and 4
        coder.reconstruct(chunks, new int[] {1});
        assertArrayEquals(bytes(stripe[1]), bytes(chunks[1]));
    }

    /**
     * The hot path allocates no buffers or tables: they are prepared per coder and per erasure pattern,
     * and ISA-L's array of chunk addresses is per thread. The Java coder allocates nothing at all. What
     * remains for ISA-L are the short-lived segment views of the caller's buffers
     * ({@code MemorySegment.ofBuffer}): the JIT removes them when this call site alone has used that JDK
     * method, but not once other code in the same JVM (the engine's drive reads) showed it other kinds
     * of buffers; then a few hundred bytes of views per call remain. So ISA-L is held below one 64 KiB
     * chunk's copy per call, with 64 KiB chunks. Measured with the thread's allocation counter after a
     * warm-up long enough for the JIT (a busy machine needed more than ten rounds).
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"isal", "java"})
    void callsAllocateNoChunksOnceWarm(String implementation) {
        boolean isal = implementation.equals("isal");
        ErasureCoder coder = coder(implementation, 4, 2);
        ByteBuffer[] stripe = encodedStripe(coder, new Random(8), isal ? 64 * 1024 : 64);
        ByteBuffer[] data = Arrays.copyOf(stripe, 4);
        ByteBuffer[] parity = Arrays.copyOfRange(stripe, 4, 6);
        int[] missing = {1, 4};
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        int calls = isal ? 2_000 : 20_000;
        long bound = isal ? 4096L * calls : calls;
        long allocated = Long.MAX_VALUE;
        for (int round = 0; round < 100 && allocated >= bound; round++) {
            long before = threads.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < calls; i++) {
                coder.encode(data, parity);
                coder.reconstruct(stripe, missing);
            }
            allocated = threads.getCurrentThreadAllocatedBytes() - before;
        }
        assertTrue(allocated < bound, implementation + ": " + allocated + " bytes allocated by " + calls
                + " encodes and rebuilds");
    }

    // ---- refused arguments --------------------------------------------------------------------------

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"isal", "java"})
    void impossibleCodesAreRefused(String implementation) {
        assertRefused("a 0+2 code is not possible: it needs at least one data chunk and one parity chunk",
                () -> coder(implementation, 0, 2));
        assertRefused("a 4+0 code is not possible: it needs at least one data chunk and one parity chunk",
                () -> coder(implementation, 4, 0));
        assertRefused("a 250+7 code is not possible: k+m is at most 256 in GF(2^8)",
                () -> coder(implementation, 250, 7));
        assertEquals(256, coder(implementation, 250, 6).dataChunks() + 6);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"isal", "java"})
    void badEncodeArgumentsAreRefusedAndNothingIsWritten(String implementation) {
        ErasureCoder coder = coder(implementation, 4, 2);
        ByteBuffer[] data = randomChunks(new Random(2), 4, 4096);
        assertEncodeRefused(coder, "a 4+2 code encodes 4 data chunks into 2 parity chunks, not 3 into 2",
                Arrays.copyOf(data, 3), chunks(2, 4096));
        assertEncodeRefused(coder, "a 4+2 code encodes 4 data chunks into 2 parity chunks, not 4 into 3",
                data, chunks(3, 4096));
        ByteBuffer[] shortParity = chunks(2, 4096);
        shortParity[1] = ByteBuffer.allocateDirect(4095);
        assertEncodeRefused(coder, "parity chunk 1 (chunk 5) has 4095 bytes, the stripe's chunks 4096: they must"
                + " all have the same length", data, shortParity);
        ByteBuffer[] shortData = data.clone();
        shortData[2] = data[2].slice(0, 4000);
        assertEncodeRefused(coder, "data chunk 2 has 4000 bytes, the stripe's chunks 4096: they must all have the"
                + " same length", shortData, chunks(2, 4096));
        ByteBuffer[] heap = data.clone();
        heap[3] = ByteBuffer.allocate(4096);
        assertEncodeRefused(coder, "data chunk 3 is not a direct buffer: chunks are native memory", heap, chunks(2, 4096));
        ByteBuffer[] readOnly = chunks(2, 4096);
        readOnly[0] = fill(readOnly[0], 0x5a).asReadOnlyBuffer(); // filled first: the check reads it back
        assertEncodeRefused(coder, "parity chunk 0 (chunk 4) is read-only", data, readOnly);
        ByteBuffer[] withNull = data.clone();
        withNull[1] = null;
        assertEncodeRefused(coder, "data chunk 1 is null", withNull, chunks(2, 4096));
        ByteBuffer[] empty = new ByteBuffer[4];
        Arrays.setAll(empty, i -> ByteBuffer.allocateDirect(0));
        assertEncodeRefused(coder, "data chunk 0 is empty", empty, chunks(2, 0));
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"isal", "java"})
    void badReconstructArgumentsAreRefusedAndNothingIsWritten(String implementation) {
        ErasureCoder coder = coder(implementation, 4, 2);
        ByteBuffer[] stripe = encodedStripe(coder, new Random(4), 4096);
        assertReconstructRefused(coder, "3 chunks are missing: a 4+2 code rebuilds at most 2", stripe, 0, 1, 2);
        assertReconstructRefused(coder, "missing chunk 6 does not exist: a 4+2 stripe's chunks are 0 to 5", stripe, 6);
        assertReconstructRefused(coder, "missing chunk -1 does not exist: a 4+2 stripe's chunks are 0 to 5", stripe, -1);
        assertReconstructRefused(coder, "chunk 3 is listed twice as missing", stripe, 3, 3);
        ByteBuffer[] withNullSource = copy(stripe);
        withNullSource[2] = null;
        assertReconstructRefused(coder, "data chunk 2 is null", withNullSource, 0);
        ByteBuffer[] withNullTarget = copy(stripe);
        withNullTarget[4] = null;
        assertReconstructRefused(coder, "parity chunk 0 (chunk 4) is null", withNullTarget, 4);
        ByteBuffer[] shortTarget = copy(stripe);
        shortTarget[0] = ByteBuffer.allocateDirect(100);
        assertReconstructRefused(coder, "data chunk 0 has 100 bytes, the stripe's chunks 4096: they must all have"
                + " the same length", shortTarget, 0);
        assertRefused("a 4+2 stripe has 6 chunks, not 5",
                () -> coder.reconstruct(Arrays.copyOf(stripe, 5), new int[] {0}));
    }

    /** With nothing missing there is nothing to do, and nothing is touched. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"isal", "java"})
    void nothingMissingRebuildsNothing(String implementation) {
        ErasureCoder coder = coder(implementation, 2, 1);
        ByteBuffer[] stripe = encodedStripe(coder, new Random(6), 64);
        ByteBuffer[] chunks = copy(stripe);
        coder.reconstruct(chunks, new int[0]);
        for (int i = 0; i < 3; i++) {
            assertArrayEquals(bytes(stripe[i]), bytes(chunks[i]));
        }
    }

    // ---- helpers ------------------------------------------------------------------------------------

    private static void assertRefused(String message, Runnable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::run);
        assertEquals(message, e.getMessage());
    }

    private static void assertEncodeRefused(ErasureCoder coder, String message, ByteBuffer[] data, ByteBuffer[] parity) {
        for (ByteBuffer p : parity) {
            if (p != null && !p.isReadOnly()) {
                fill(p, 0x5a);
            }
        }
        assertRefused(message, () -> coder.encode(data, parity));
        for (ByteBuffer p : parity) {
            if (p != null) {
                assertArrayEquals(bytes(filled(p.remaining(), 0x5a)), bytes(p), "parity written by a refused call");
            }
        }
    }

    private static void assertReconstructRefused(ErasureCoder coder, String message, ByteBuffer[] stripe,
                                                 int... missing) {
        ByteBuffer[] chunks = copy(stripe);
        for (int index : missing) {
            if (index >= 0 && index < chunks.length && chunks[index] != null) {
                fill(chunks[index], 0x5a);
            }
        }
        byte[][] before = new byte[chunks.length][];
        for (int i = 0; i < chunks.length; i++) {
            before[i] = chunks[i] == null ? null : bytes(chunks[i]);
        }
        assertRefused(message, () -> coder.reconstruct(chunks, missing));
        for (int i = 0; i < chunks.length; i++) {
            if (chunks[i] != null) {
                assertArrayEquals(before[i], bytes(chunks[i]), "chunk " + i + " written by a refused call");
            }
        }
    }

    /**
     * Loses the chunks of {@code missing} (garbage in their place), rebuilds them, and checks every
     * chunk against the stripe, and that positions and limits are as they were.
     */
    private static void assertRebuilt(ErasureCoder coder, ByteBuffer[] stripe, int[] missing, Random random) {
        ByteBuffer[] chunks = copy(stripe);
        for (int index : missing) {
            byte[] garbage = new byte[chunks[index].remaining()];
            random.nextBytes(garbage);
            chunks[index].put(chunks[index].position(), garbage);
        }
        coder.reconstruct(chunks, missing);
        for (int i = 0; i < stripe.length; i++) {
            assertArrayEquals(bytes(stripe[i]), bytes(chunks[i]), coder.implementation() + " "
                    + coder.dataChunks() + "+" + coder.parityChunks() + " chunk " + i + " after losing "
                    + Arrays.toString(missing));
            assertEquals(3, chunks[i].position());
            assertEquals(3 + stripe[i].remaining(), chunks[i].limit());
        }
    }

    private static ByteBuffer[] encodedStripe(ErasureCoder coder, Random random, int length) {
        int k = coder.dataChunks();
        ByteBuffer[] stripe = new ByteBuffer[k + coder.parityChunks()];
        ByteBuffer[] data = randomChunks(random, k, length);
        ByteBuffer[] parity = chunks(coder.parityChunks(), length);
        coder.encode(data, parity);
        System.arraycopy(data, 0, stripe, 0, k);
        System.arraycopy(parity, 0, stripe, k, parity.length);
        return stripe;
    }

    /**
     * Copies of the chunks, each at position 3 of a direct buffer with a byte to spare at the end:
     * positions that are not aligned and limits that are not the capacity.
     */
    private static ByteBuffer[] copy(ByteBuffer[] chunks) {
        ByteBuffer[] copies = new ByteBuffer[chunks.length];
        for (int i = 0; i < chunks.length; i++) {
            if (chunks[i] == null) {
                continue;
            }
            ByteBuffer copy = ByteBuffer.allocateDirect(chunks[i].remaining() + 4);
            copy.position(3).limit(3 + chunks[i].remaining());
            copy.put(3, bytes(chunks[i]));
            copies[i] = copy;
        }
        return copies;
    }

    /** All subsets of 1 to {@code most} of {@code n} indexes. */
    private static List<int[]> patterns(int n, int most) {
        List<int[]> patterns = new ArrayList<>();
        for (int mask = 1; mask < 1 << n; mask++) {
            if (Integer.bitCount(mask) <= most) {
                int finalMask = mask;
                patterns.add(java.util.stream.IntStream.range(0, n).filter(i -> (finalMask & 1 << i) != 0).toArray());
            }
        }
        return patterns;
    }

    private static long expectedPatternCount(int n, int most) {
        BiFunction<Integer, Integer, Long> choose = (a, b) -> {
            long c = 1;
            for (int i = 0; i < b; i++) {
                c = c * (a - i) / (i + 1);
            }
            return c;
        };
        long count = 0;
        for (int e = 1; e <= most; e++) {
            count += choose.apply(n, e);
        }
        return count;
    }

    private static ByteBuffer[] randomChunks(Random random, int count, int length) {
        ByteBuffer[] chunks = chunks(count, length);
        for (ByteBuffer chunk : chunks) {
            byte[] bytes = new byte[length];
            random.nextBytes(bytes);
            chunk.put(0, bytes);
        }
        return chunks;
    }

    private static ByteBuffer[] chunks(int count, int length) {
        ByteBuffer[] chunks = new ByteBuffer[count];
        Arrays.setAll(chunks, i -> ByteBuffer.allocateDirect(length));
        return chunks;
    }

    private static ByteBuffer filled(int length, int value) {
        return fill(ByteBuffer.allocateDirect(length), value);
    }

    private static ByteBuffer fill(ByteBuffer buffer, int value) {
        for (int i = buffer.position(); i < buffer.limit(); i++) {
            buffer.put(i, (byte) value);
        }
        return buffer;
    }

    private static byte[] bytes(ByteBuffer buffer) {
        byte[] bytes = new byte[buffer.remaining()];
        buffer.get(buffer.position(), bytes);
        return bytes;
    }
}
