package io.basalt.nvmetcp.auth;

import java.util.Objects;

/**
 * What authenticates one host: its secret, and optionally the controller's secret, with which the
 * controller proves itself to the host as well (bidirectional authentication).
 */
public record DhchapCredentials(DhchapKey hostKey, DhchapKey controllerKey) {
    public DhchapCredentials {
        Objects.requireNonNull(hostKey, "hostKey");
    }

    public boolean bidirectional() {
        return controllerKey != null;
    }
}
