package io.basalt.service.engine.ec;

import java.nio.ByteBuffer;

/**
 * What a {@link ReedSolomonCoder} needs from an implementation of GF(2^8) linear algebra: the coding
 * matrix, matrix inversion, and the bulk operation that computes output chunks as linear combinations
 * of input chunks. {@link IsalKernel} is ISA-L through java.lang.foreign, {@link JavaKernel} the same
 * arithmetic in Java; both produce identical bytes.
 *
 * @param <T> the kernel's prepared form of a coefficient matrix (ISA-L's expanded tables)
 */
interface CodingKernel<T> {
    /** Which implementation, for logs and benchmarks. */
    String name();

    /** The (k+m)×k coding matrix, row-major: {@link GaloisField#cauchyMatrix}'s. */
    byte[] cauchyMatrix(int k, int m);

    /** {@code inverse} = {@code matrix}⁻¹ (n×n, row-major; {@code matrix} is destroyed); false if singular. */
    boolean invert(byte[] matrix, byte[] inverse, int n);

    /** Prepares {@code rows}×{@code k} coefficients (row-major) for {@link #apply}. */
    T prepare(int k, int rows, byte[] coefficients);

    /**
     * For each r < rows: {@code outputs[outputIndexes[r]]} = Σ_j coefficient(r, j) ·
     * {@code inputs[inputIndexes[j]]}, over {@code length} bytes from each buffer's position. Buffers
     * are direct and already checked; positions and limits stay as they are.
     */
    void apply(T tables, int k, int rows, int length, ByteBuffer[] inputs, int[] inputIndexes,
               ByteBuffer[] outputs, int[] outputIndexes);
}
