package io.basalt.nvmetcp.nvme;

import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/** NVMe Qualified Names (NVMe Base Specification, "NVMe Qualified Names"). */
public final class Nqn {
    public static final String DISCOVERY = "nqn.2014-08.org.nvmexpress.discovery";
    /** NQNs are at most 223 bytes of UTF-8. */
    public static final int MAX_BYTES = 223;

    private static final Pattern DATE_FORM =
            Pattern.compile("nqn\\.\\d{4}-(0[1-9]|1[0-2])\\.[a-zA-Z0-9][a-zA-Z0-9.-]*[a-zA-Z0-9](:.+)?");
    private static final Pattern UUID_FORM = Pattern.compile(
            "nqn\\.2014-08\\.org\\.nvmexpress:uuid:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");

    private Nqn() {
    }

    public static boolean isValid(String nqn) {
        return nqn != null
                && nqn.getBytes(StandardCharsets.UTF_8).length <= MAX_BYTES
                && (UUID_FORM.matcher(nqn).matches() || DATE_FORM.matcher(nqn).matches());
    }

    public static String requireValid(String nqn) {
        if (!isValid(nqn)) {
            throw new IllegalArgumentException("not a valid NQN: " + nqn);
        }
        return nqn;
    }
}
