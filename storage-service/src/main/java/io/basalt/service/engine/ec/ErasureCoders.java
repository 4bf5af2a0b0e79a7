package io.basalt.service.engine.ec;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Optional;

/**
 * Makes {@link ErasureCoder}s: ISA-L's where {@code libisal.so.2} loads (Debian package {@code libisal2}),
 * otherwise the pure-Java coder, which writes the same parity, only slower.
 */
public final class ErasureCoders {
    private static final Logger LOG = LoggerFactory.getLogger(ErasureCoders.class);

    private ErasureCoders() {
    }

    /** ISA-L loaded once, or why not. */
    private static final class Isal {
        static final IsalKernel KERNEL;
        static final String UNAVAILABLE;

        static {
            IsalKernel kernel = null;
            String reason = null;
            try {
                kernel = IsalKernel.load(IsalKernel.LIBRARY);
            } catch (UnsupportedOperationException e) {
                reason = e.getMessage();
            }
            KERNEL = kernel;
            UNAVAILABLE = reason;
        }
    }

    /**
     * The fastest coder this machine has for k+m.
     *
     * @throws IllegalArgumentException if k &lt; 1, m &lt; 1 or k+m &gt; 256
     */
    public static ErasureCoder create(int k, int m) {
        if (Isal.KERNEL != null) {
            return new ReedSolomonCoder<>(Isal.KERNEL, k, m);
        }
        LOG.warn("erasure coding in pure Java, ten times slower or more than ISA-L: {}", Isal.UNAVAILABLE);
        return java(k, m);
    }

    /**
     * ISA-L's coder.
     *
     * @throws UnsupportedOperationException if ISA-L cannot be loaded, with the reason
     */
    public static ErasureCoder isal(int k, int m) {
        if (Isal.KERNEL == null) {
            throw new UnsupportedOperationException(Isal.UNAVAILABLE);
        }
        return new ReedSolomonCoder<>(Isal.KERNEL, k, m);
    }

    /** The pure-Java coder. */
    public static ErasureCoder java(int k, int m) {
        return new ReedSolomonCoder<>(new JavaKernel(), k, m);
    }

    /** Why ISA-L cannot be used here, if it cannot. */
    public static Optional<String> isalUnavailable() {
        return Optional.ofNullable(Isal.UNAVAILABLE);
    }
}
