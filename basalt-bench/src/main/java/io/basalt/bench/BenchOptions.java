package io.basalt.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One benchmark run.
 *
 * @param address       target address ({@code --target ADDR:PORT}); null with {@code --self} or the echo baseline
 * @param ioSize        bytes per I/O ({@code --bs})
 * @param queueDepth    I/Os outstanding per connection ({@code --qd})
 * @param connections   I/O queues, each its own TCP connection ({@code --connections})
 * @param digests       header and data digests on every connection ({@code --digest})
 * @param echoBaseline  run against the in-process echo server instead of an NVMe/TCP target
 * @param workingSet    bytes of the namespace the I/Os spread over; 0 for the default
 * @param engine        with {@code --self}: the namespace is a volume of a storage engine on a temporary
 *                      drive file ({@code --engine}) instead of memory
 * @param engineDir     where that drive file goes ({@code --engine-dir}); null for the temporary directory
 * @param memoryDrive   the engine's drive is in memory ({@code --memory-drive}, {@code engine.drives=memory:SIZE}):
 *                      the engine's own cost, without the page cache's
 */
record BenchOptions(String address, int port, String nqn, int nsid, String hostNqn, boolean self, Workload workload,
                    int ioSize, int queueDepth, int connections, int seconds, int warmUpSeconds, boolean digests,
                    boolean echoBaseline, long workingSet, boolean engine, Path engineDir, boolean memoryDrive) {
    static final String DEFAULT_HOST_NQN = "nqn.2026-11.io.basalt:bench";

    BenchOptions {
        if (ioSize < 512 || ioSize % 512 != 0) {
            throw new IllegalArgumentException("--bs must be a multiple of 512 bytes");
        }
        if (queueDepth < 1 || connections < 1 || seconds < 1 || warmUpSeconds < 0) {
            throw new IllegalArgumentException("--qd, --connections and --seconds must be positive");
        }
        if (!self && !echoBaseline && (address == null || nqn == null)) {
            throw new IllegalArgumentException("give --target ADDR:PORT and --nqn NQN, or --self, or --baseline echo");
        }
        if (engine && !self) {
            throw new IllegalArgumentException("--engine is a kind of --self target");
        }
    }

    /** The same run against another system: the in-process target (on memory or on the engine), or the echo baseline. */
    BenchOptions against(boolean selfTarget, boolean onEngine, boolean echo) {
        return new BenchOptions(address, port, nqn, nsid, hostNqn, selfTarget, workload, ioSize, queueDepth, connections,
                seconds, warmUpSeconds, digests, echo, workingSet, onEngine, engineDir, memoryDrive);
    }

    BenchOptions with(Workload w, int bs, int qd) {
        return new BenchOptions(address, port, nqn, nsid, hostNqn, self, w, bs, qd, connections, seconds, warmUpSeconds,
                digests, echoBaseline, workingSet, engine, engineDir, memoryDrive);
    }

    /** The same run with the engine's drive in memory ({@code --memory-drive}) or on a file. */
    BenchOptions withMemoryDrive(boolean inMemory) {
        return new BenchOptions(address, port, nqn, nsid, hostNqn, self, workload, ioSize, queueDepth, connections,
                seconds, warmUpSeconds, digests, echoBaseline, workingSet, engine, engineDir, inMemory);
    }

    /** The same run after another warm-up ({@code 0}: measured from the first I/O on). */
    BenchOptions warmedUpFor(int seconds) {
        return new BenchOptions(address, port, nqn, nsid, hostNqn, self, workload, ioSize, queueDepth, connections,
                this.seconds, seconds, digests, echoBaseline, workingSet, engine, engineDir, memoryDrive);
    }

    /** The command line of this run against the in-process target, as {@link #parse} reads it back. */
    List<String> selfArguments() {
        if (!self) {
            throw new IllegalStateException("not a run against the in-process target");
        }
        List<String> args = new ArrayList<>(List.of(memoryDrive ? "--memory-drive" : engine ? "--engine" : "--self",
                "--rw", workload.label(), "--bs", Integer.toString(ioSize), "--qd", Integer.toString(queueDepth),
                "--connections", Integer.toString(connections), "--seconds", Integer.toString(seconds),
                "--warmup", Integer.toString(warmUpSeconds)));
        if (digests) {
            args.add("--digest");
        }
        if (workingSet > 0) {
            args.addAll(List.of("--size", Long.toString(workingSet)));
        }
        if (engineDir != null) {
            args.addAll(List.of("--engine-dir", engineDir.toString()));
        }
        if (!hostNqn.equals(DEFAULT_HOST_NQN)) {
            args.addAll(List.of("--host-nqn", hostNqn));
        }
        return args;
    }

    static BenchOptions parse(String[] args) {
        String address = null;
        int port = 0;
        String nqn = null;
        int nsid = 1;
        String hostNqn = DEFAULT_HOST_NQN;
        boolean self = false;
        Workload workload = Workload.RANDREAD;
        int ioSize = 4096;
        int queueDepth = 32;
        int connections = 1;
        int seconds = 10;
        int warmUp = 2;
        boolean digests = false;
        boolean echo = false;
        long workingSet = 0;
        boolean engine = false;
        boolean memoryDrive = false;
        Path engineDir = null;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            switch (arg) {
                case "--self" -> self = true;
                case "--engine" -> {
                    engine = true;
                    self = true;
                }
                case "--memory-drive" -> {
                    memoryDrive = true;
                    engine = true;
                    self = true;
                }
                case "--engine-dir" -> engineDir = Path.of(value(args, ++i, arg));
                case "--digest" -> digests = true;
                case "--target" -> {
                    String target = value(args, ++i, arg);
                    int colon = target.lastIndexOf(':');
                    if (colon <= 0) {
                        throw new IllegalArgumentException("--target must be ADDR:PORT, not " + target);
                    }
                    address = target.substring(0, colon);
                    port = integer(target.substring(colon + 1), "--target port");
                }
                case "--nqn" -> nqn = value(args, ++i, arg);
                case "--nsid" -> nsid = integer(value(args, ++i, arg), arg);
                case "--host-nqn" -> hostNqn = value(args, ++i, arg);
                case "--rw" -> workload = Workload.parse(value(args, ++i, arg));
                case "--bs" -> ioSize = Math.toIntExact(size(value(args, ++i, arg), arg));
                case "--qd" -> queueDepth = integer(value(args, ++i, arg), arg);
                case "--connections" -> connections = integer(value(args, ++i, arg), arg);
                case "--seconds" -> seconds = integer(value(args, ++i, arg), arg);
                case "--warmup" -> warmUp = integer(value(args, ++i, arg), arg);
                case "--size" -> workingSet = size(value(args, ++i, arg), arg);
                case "--baseline" -> {
                    String baseline = value(args, ++i, arg);
                    if (!baseline.equals("echo")) {
                        throw new IllegalArgumentException("the only --baseline is echo, not " + baseline);
                    }
                    echo = true;
                }
                default -> throw new IllegalArgumentException("unknown option " + arg);
            }
        }
        if ((address != null ? 1 : 0) + (self ? 1 : 0) + (echo ? 1 : 0) > 1) {
            throw new IllegalArgumentException("give one of --target, --self and --baseline echo");
        }
        return new BenchOptions(address, port, nqn, nsid, hostNqn, self, workload, ioSize, queueDepth, connections,
                seconds, warmUp, digests, echo, workingSet, engine, engineDir, memoryDrive);
    }

    static String value(String[] args, int index, String option) {
        if (index >= args.length) {
            throw new IllegalArgumentException(option + " needs a value");
        }
        return args[index];
    }

    static int integer(String value, String option) {
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " must be a number, not " + value);
        }
    }

    /** A byte count with an optional k, m or g suffix (powers of 1024). */
    static long size(String value, String option) {
        String v = value.toLowerCase(Locale.ROOT);
        int shift = switch (v.isEmpty() ? ' ' : v.charAt(v.length() - 1)) {
            case 'k' -> 10;
            case 'm' -> 20;
            case 'g' -> 30;
            default -> 0;
        };
        String digits = shift == 0 ? v : v.substring(0, v.length() - 1);
        try {
            return Math.multiplyExact(Long.parseLong(digits), 1L << shift);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException(option + " must be a size such as 4k or 128k, not " + value);
        }
    }
}
