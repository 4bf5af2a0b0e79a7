package io.basalt.service.engine.ec;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * GF(2^8) coding in plain Java, for machines without ISA-L: the same matrix and arithmetic
 * ({@link GaloisField}), so its parity is ISA-L's byte for byte. Each coefficient is a 256-byte
 * table of products; chunks are read and written eight bytes at a time.
 */
final class JavaKernel implements CodingKernel<byte[][]> {
    /** Fixed byte order whatever the buffers' own: byte i of a long is byte i of the chunk in both directions. */
    private static final VarHandle LONGS = MethodHandles.byteBufferViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    @Override
    public String name() {
        return "Java";
    }

    @Override
    public byte[] cauchyMatrix(int k, int m) {
        return GaloisField.cauchyMatrix(k, m);
    }

    @Override
    public boolean invert(byte[] matrix, byte[] inverse, int n) {
        return GaloisField.invert(matrix, inverse, n);
    }

    /** One product table per coefficient, row-major. */
    @Override
    public byte[][] prepare(int k, int rows, byte[] coefficients) {
        byte[][] tables = new byte[rows * k][];
        for (int i = 0; i < rows * k; i++) {
            tables[i] = GaloisField.products(coefficients[i] & 0xff);
        }
        return tables;
    }

    @Override
    public void apply(byte[][] tables, int k, int rows, int length, ByteBuffer[] inputs, int[] inputIndexes,
                      ByteBuffer[] outputs, int[] outputIndexes) {
        for (int r = 0; r < rows; r++) {
            ByteBuffer out = outputs[outputIndexes[r]];
            for (int j = 0; j < k; j++) {
                multiplyInto(tables[r * k + j], inputs[inputIndexes[j]], out, length, j > 0);
            }
        }
    }

    /** out = table·in, or out ^= table·in if {@code accumulate}: the first term sets, the others add. */
    private static void multiplyInto(byte[] table, ByteBuffer in, ByteBuffer out, int length, boolean accumulate) {
        int ip = in.position();
        int op = out.position();
        int i = 0;
        for (; i + Long.BYTES <= length; i += Long.BYTES) {
            long v = (long) LONGS.get(in, ip + i);
            long p = (table[(int) v & 0xff] & 0xffL)
                    | (table[(int) (v >>> 8) & 0xff] & 0xffL) << 8
                    | (table[(int) (v >>> 16) & 0xff] & 0xffL) << 16
                    | (table[(int) (v >>> 24) & 0xff] & 0xffL) << 24
                    | (table[(int) (v >>> 32) & 0xff] & 0xffL) << 32
                    | (table[(int) (v >>> 40) & 0xff] & 0xffL) << 40
                    | (table[(int) (v >>> 48) & 0xff] & 0xffL) << 48
                    | (table[(int) (v >>> 56) & 0xff] & 0xffL) << 56;
            if (accumulate) {
                p ^= (long) LONGS.get(out, op + i);
            }
            LONGS.set(out, op + i, p);
        }
        for (; i < length; i++) {
            byte p = table[in.get(ip + i) & 0xff];
            out.put(op + i, accumulate ? (byte) (p ^ out.get(op + i)) : p);
        }
    }
}
