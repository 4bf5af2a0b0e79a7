package io.basalt.service.engine.ec;

/**
 * How to rebuild one erasure pattern: which chunks to read ({@code sources}, the first k that survive)
 * and the prepared coefficients that turn them into the missing ones ({@code outputs}, ascending).
 * The pattern is the set of missing chunk indexes as a 256-bit mask in four words.
 */
record DecodePlan<T>(long mask0, long mask1, long mask2, long mask3, int[] sources, int[] outputs, T tables) {
    boolean matches(long w0, long w1, long w2, long w3) {
        return mask0 == w0 && mask1 == w1 && mask2 == w2 && mask3 == w3;
    }
}
