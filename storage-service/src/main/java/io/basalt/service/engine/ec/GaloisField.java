package io.basalt.service.engine.ec;

/**
 * Arithmetic in GF(2^8) with the polynomial x^8 + x^4 + x^3 + x^2 + 1 (0x11d) and generator 2: the field
 * ISA-L computes in, so that the pure-Java coder's parity is byte for byte ISA-L's. Addition is XOR.
 */
final class GaloisField {
    static final int POLYNOMIAL = 0x11d;
    static final int SIZE = 256;
    /** 2^i for i in [0, 510): a product's exponent sum needs no modulo. */
    private static final int[] EXP = new int[2 * (SIZE - 1)];
    private static final int[] LOG = new int[SIZE];
    /** {@code PRODUCTS[c][x]} = c·x: a coefficient's whole multiplication table, what the Java coder looks up. */
    private static final byte[][] PRODUCTS = new byte[SIZE][SIZE];

    static {
        int x = 1;
        for (int i = 0; i < SIZE - 1; i++) {
            EXP[i] = x;
            EXP[i + SIZE - 1] = x;
            LOG[x] = i;
            x <<= 1;
            if (x >= SIZE) {
                x ^= POLYNOMIAL;
            }
        }
        for (int c = 0; c < SIZE; c++) {
            for (int v = 0; v < SIZE; v++) {
                PRODUCTS[c][v] = (byte) multiply(c, v);
            }
        }
    }

    private GaloisField() {
    }

    /** a·b, both in [0, 256). */
    static int multiply(int a, int b) {
        return a == 0 || b == 0 ? 0 : EXP[LOG[a] + LOG[b]];
    }

    /** 1/a for a in [1, 256). */
    static int inverse(int a) {
        if (a == 0) {
            throw new ArithmeticException("0 has no inverse in GF(2^8)");
        }
        return EXP[SIZE - 1 - LOG[a]];
    }

    /** The table of products by {@code coefficient}: {@code products(c)[x & 0xff]} is c·x. Shared: never write it. */
    static byte[] products(int coefficient) {
        return PRODUCTS[coefficient];
    }

    /**
     * The coding matrix ISA-L's {@code gf_gen_cauchy1_matrix} makes, (k+m) rows of k: the identity on
     * top (data chunks are stored as they are), then row i (k ≤ i < k+m) holds 1/(i ⊕ j) in column j.
     * That lower part is a Cauchy matrix over the disjoint sets {k … k+m-1} and {0 … k-1}, so every
     * square submatrix of it is invertible, hence any k rows of the whole matrix are: any k surviving
     * chunks rebuild the rest. It needs k+m distinct field elements, hence k+m ≤ 256.
     */
    static byte[] cauchyMatrix(int k, int m) {
        byte[] matrix = new byte[(k + m) * k];
        for (int i = 0; i < k; i++) {
            matrix[i * k + i] = 1;
        }
        for (int i = k; i < k + m; i++) {
            for (int j = 0; j < k; j++) {
                matrix[i * k + j] = (byte) inverse(i ^ j);
            }
        }
        return matrix;
    }

    /**
     * The inverse of the n×n matrix {@code matrix} (row-major, destroyed) into {@code inverse} by
     * Gauss-Jordan elimination; false if it is singular. The inverse is unique, so the result is
     * ISA-L's {@code gf_invert_matrix}'s whatever the order of row operations.
     */
    static boolean invert(byte[] matrix, byte[] inverse, int n) {
        java.util.Arrays.fill(inverse, 0, n * n, (byte) 0);
        for (int i = 0; i < n; i++) {
            inverse[i * n + i] = 1;
        }
        for (int col = 0; col < n; col++) {
            int pivot = col;
            while (pivot < n && matrix[pivot * n + col] == 0) {
                pivot++;
            }
            if (pivot == n) {
                return false;
            }
            if (pivot != col) {
                swapRows(matrix, n, pivot, col);
                swapRows(inverse, n, pivot, col);
            }
            int scale = inverse(matrix[col * n + col] & 0xff);
            scaleRow(matrix, n, col, scale);
            scaleRow(inverse, n, col, scale);
            for (int row = 0; row < n; row++) {
                int factor = matrix[row * n + col] & 0xff;
                if (row != col && factor != 0) {
                    subtractRow(matrix, n, col, row, factor);
                    subtractRow(inverse, n, col, row, factor);
                }
            }
        }
        return true;
    }

    private static void swapRows(byte[] matrix, int n, int a, int b) {
        for (int j = 0; j < n; j++) {
            byte t = matrix[a * n + j];
            matrix[a * n + j] = matrix[b * n + j];
            matrix[b * n + j] = t;
        }
    }

    private static void scaleRow(byte[] matrix, int n, int row, int factor) {
        for (int j = 0; j < n; j++) {
            matrix[row * n + j] = (byte) multiply(matrix[row * n + j] & 0xff, factor);
        }
    }

    /** row -= factor × source (subtraction is addition is XOR). */
    private static void subtractRow(byte[] matrix, int n, int source, int row, int factor) {
        for (int j = 0; j < n; j++) {
            matrix[row * n + j] ^= (byte) multiply(matrix[source * n + j] & 0xff, factor);
        }
    }
}
