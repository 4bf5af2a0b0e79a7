package io.basalt.attach.userspace;

/**
 * Stands in for the NBD bridge in tests of starting and stopping it: says ready as the real one
 * does (unless told {@code --silent}) and runs until SIGTERM, or 60 s at most.
 */
public final class FakeBridgeMain {
    private FakeBridgeMain() {
    }

    public static void main(String[] args) throws InterruptedException {
        boolean silent = args[0].equals("--silent");
        int socket = java.util.Arrays.asList(args).indexOf("--socket");
        if (!silent) {
            System.out.println("nbd-bridge ready " + args[socket + 1]);
            System.out.flush();
        }
        Thread.sleep(60_000);
    }
}
