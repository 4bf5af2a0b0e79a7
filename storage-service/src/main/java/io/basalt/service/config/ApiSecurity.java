package io.basalt.service.config;

import java.nio.file.Path;
import java.util.Map;

/**
 * Who may use the volume API, and how it is served.
 *
 * @param adminToken    the admin token, or null to use (and on first start generate) {@code <data>/api-admin-token}
 * @param projectTokens token of each project
 * @param tlsCert       PEM certificate chain, or null for plain HTTP
 * @param tlsKey        PEM private key, or null for plain HTTP
 */
public record ApiSecurity(String adminToken, Map<String, String> projectTokens, Path tlsCert, Path tlsKey) {

    public ApiSecurity {
        projectTokens = Map.copyOf(projectTokens);
        if ((tlsCert == null) != (tlsKey == null)) {
            throw new ConfigException(ConfigKey.API_TLS_CERT.key() + " and " + ConfigKey.API_TLS_KEY.key()
                    + " must be set together");
        }
    }

    public boolean tls() {
        return tlsCert != null;
    }
}
