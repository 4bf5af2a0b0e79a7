package io.basalt.service;

import io.basalt.service.files.AtomicFiles;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * The API's admin token when the configuration names none: generated once into
 * {@code <data>/api-admin-token}, readable by its owner only, and read back on later starts.
 */
final class AdminToken {
    static final String FILE_NAME = "api-admin-token";
    private static final Logger LOG = LoggerFactory.getLogger(AdminToken.class);

    private AdminToken() {
    }

    static String inDataDir(Path dataDir) throws IOException {
        Path file = dataDir.resolve(FILE_NAME);
        if (!Files.exists(file)) {
            byte[] secret = new byte[32];
            new SecureRandom().nextBytes(secret);
            // Synced before and after the rename: a power cut right after the first start must not
            // leave an empty token file that stops every later start.
            AtomicFiles.writeOwnerOnly(file, (HexFormat.of().formatHex(secret) + "\n").getBytes(StandardCharsets.US_ASCII));
            LOG.info("generated the API admin token into {}", file.toAbsolutePath());
        }
        String token = Files.readString(file, StandardCharsets.US_ASCII).trim();
        if (token.isEmpty()) {
            throw new IOException("admin token file " + file + " is empty; delete it to generate a new token");
        }
        return token;
    }
}
