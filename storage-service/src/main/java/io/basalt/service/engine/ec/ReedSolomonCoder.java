package io.basalt.service.engine.ec;

import java.nio.ByteBuffer;
import java.util.Locale;

/**
 * The Reed-Solomon code of {@link GaloisField#cauchyMatrix}, computed by a {@link CodingKernel}: checks
 * arguments, holds the parity coefficients prepared once, and the decode plans per erasure pattern in a
 * bounded {@link DecodePlanCache}.
 */
final class ReedSolomonCoder<T> implements ErasureCoder {
    /** A Cauchy code needs k+m distinct elements of GF(2^8). */
    static final int MAX_CHUNKS = GaloisField.SIZE;

    private final CodingKernel<T> kernel;
    private final int k;
    private final int m;
    /** (k+m)×k, row-major: row i gives chunk i from the data chunks. */
    private final byte[] matrix;
    private final T parityTables;
    /** 0, 1, 2 …: the input and output indexes of {@link #encode}. */
    private final int[] inOrder;
    private final DecodePlanCache<T> plans = new DecodePlanCache<>();

    ReedSolomonCoder(CodingKernel<T> kernel, int k, int m) {
        if (k < 1 || m < 1) {
            throw new IllegalArgumentException(String.format(Locale.ROOT,
                    "a %d+%d code is not possible: it needs at least one data chunk and one parity chunk", k, m));
        }
        if (k + m > MAX_CHUNKS) {
            throw new IllegalArgumentException(String.format(Locale.ROOT,
                    "a %d+%d code is not possible: k+m is at most %d in GF(2^8)", k, m, MAX_CHUNKS));
        }
        this.kernel = kernel;
        this.k = k;
        this.m = m;
        this.matrix = kernel.cauchyMatrix(k, m);
        byte[] parityRows = new byte[m * k];
        System.arraycopy(matrix, k * k, parityRows, 0, m * k);
        this.parityTables = kernel.prepare(k, m, parityRows);
        this.inOrder = new int[Math.max(k, m)];
        for (int i = 0; i < inOrder.length; i++) {
            inOrder[i] = i;
        }
    }

    @Override
    public int dataChunks() {
        return k;
    }

    @Override
    public int parityChunks() {
        return m;
    }

    @Override
    public String implementation() {
        return kernel.name();
    }

    /** The coding matrix, for tests that compare implementations. */
    byte[] matrix() {
        return matrix.clone();
    }

    @Override
    public void encode(ByteBuffer[] data, ByteBuffer[] parity) {
        if (data.length != k || parity.length != m) {
            throw new IllegalArgumentException(String.format(Locale.ROOT,
                    "a %d+%d code encodes %d data chunks into %d parity chunks, not %d into %d", k, m, k, m,
                    data.length, parity.length));
        }
        int length = length(data[0], 0);
        for (int i = 0; i < k; i++) {
            check(data[i], i, length, false);
        }
        for (int p = 0; p < m; p++) {
            check(parity[p], k + p, length, true);
        }
        kernel.apply(parityTables, k, m, length, data, inOrder, parity, inOrder);
    }

    @Override
    public void reconstruct(ByteBuffer[] chunks, int[] missing) {
        if (chunks.length != k + m) {
            throw new IllegalArgumentException(String.format(Locale.ROOT,
                    "a %d+%d stripe has %d chunks, not %d", k, m, k + m, chunks.length));
        }
        if (missing.length > m) {
            throw new IllegalArgumentException(String.format(Locale.ROOT,
                    "%d chunks are missing: a %d+%d code rebuilds at most %d", missing.length, k, m, m));
        }
        long w0 = 0;
        long w1 = 0;
        long w2 = 0;
        long w3 = 0;
        for (int index : missing) {
            if (index < 0 || index >= k + m) {
                throw new IllegalArgumentException(String.format(Locale.ROOT,
                        "missing chunk %d does not exist: a %d+%d stripe's chunks are 0 to %d", index, k, m, k + m - 1));
            }
            if (isMissing(index, w0, w1, w2, w3)) {
                throw new IllegalArgumentException("chunk " + index + " is listed twice as missing");
            }
            long bit = 1L << index;
            switch (index >>> 6) {
                case 0 -> w0 |= bit;
                case 1 -> w1 |= bit;
                case 2 -> w2 |= bit;
                default -> w3 |= bit;
            }
        }
        if (missing.length == 0) {
            return;
        }
        int length = -1;
        for (int i = 0, sources = 0; sources < k; i++) {
            if (!isMissing(i, w0, w1, w2, w3)) {
                if (length < 0) {
                    length = length(chunks[i], i);
                }
                check(chunks[i], i, length, false);
                sources++;
            }
        }
        for (int index : missing) {
            check(chunks[index], index, length, true);
        }
        DecodePlan<T> plan = plans.get(w0, w1, w2, w3);
        if (plan == null) {
            plan = plan(w0, w1, w2, w3);
            plans.put(plan);
        }
        kernel.apply(plan.tables(), k, plan.outputs().length, length, chunks, plan.sources(), chunks, plan.outputs());
    }

    private static boolean isMissing(int index, long w0, long w1, long w2, long w3) {
        long word = switch (index >>> 6) {
            case 0 -> w0;
            case 1 -> w1;
            case 2 -> w2;
            default -> w3;
        };
        return (word & (1L << index)) != 0;
    }

    /**
     * The sources S are B·D, B the coding matrix's rows of the sources, D the data chunks; so D = B⁻¹·S.
     * A missing data chunk is its row of B⁻¹ times S; a missing parity chunk, its coding row times B⁻¹ times S.
     */
    private DecodePlan<T> plan(long w0, long w1, long w2, long w3) {
        int[] sources = new int[k];
        int[] outputs = new int[Long.bitCount(w0) + Long.bitCount(w1) + Long.bitCount(w2) + Long.bitCount(w3)];
        for (int i = 0, s = 0, o = 0; i < k + m; i++) {
            if (isMissing(i, w0, w1, w2, w3)) {
                outputs[o++] = i;
            } else if (s < k) {
                sources[s++] = i;
            }
        }
        byte[] sourceRows = new byte[k * k];
        for (int r = 0; r < k; r++) {
            System.arraycopy(matrix, sources[r] * k, sourceRows, r * k, k);
        }
        byte[] inverse = new byte[k * k];
        if (!kernel.invert(sourceRows, inverse, k)) {
            // Cannot happen with a Cauchy code: every k rows of its matrix are independent.
            throw new IllegalStateException("the decode matrix of chunks " + java.util.Arrays.toString(sources)
                    + " of a " + k + "+" + m + " code is singular");
        }
        byte[] coefficients = new byte[outputs.length * k];
        for (int o = 0; o < outputs.length; o++) {
            int chunk = outputs[o];
            if (chunk < k) {
                System.arraycopy(inverse, chunk * k, coefficients, o * k, k);
                continue;
            }
            for (int j = 0; j < k; j++) {
                int sum = 0;
                for (int l = 0; l < k; l++) {
                    sum ^= GaloisField.multiply(matrix[chunk * k + l] & 0xff, inverse[l * k + j] & 0xff);
                }
                coefficients[o * k + j] = (byte) sum;
            }
        }
        return new DecodePlan<>(w0, w1, w2, w3, sources, outputs, kernel.prepare(k, outputs.length, coefficients));
    }

    private String name(int index) {
        return index < k ? "data chunk " + index : "parity chunk " + (index - k) + " (chunk " + index + ")";
    }

    /** The length of the stripe's chunks, taken from its first source chunk. */
    private int length(ByteBuffer chunk, int index) {
        if (chunk == null) {
            throw new IllegalArgumentException(name(index) + " is null");
        }
        if (!chunk.hasRemaining()) {
            throw new IllegalArgumentException(name(index) + " is empty");
        }
        return chunk.remaining();
    }

    private void check(ByteBuffer chunk, int index, int length, boolean written) {
        if (chunk == null) {
            throw new IllegalArgumentException(name(index) + " is null");
        }
        if (!chunk.isDirect()) {
            throw new IllegalArgumentException(name(index) + " is not a direct buffer: chunks are native memory");
        }
        if (written && chunk.isReadOnly()) {
            throw new IllegalArgumentException(name(index) + " is read-only");
        }
        if (chunk.remaining() != length) {
            throw new IllegalArgumentException(String.format(Locale.ROOT,
                    "%s has %d bytes, the stripe's chunks %d: they must all have the same length", name(index),
                    chunk.remaining(), length));
        }
    }
}
