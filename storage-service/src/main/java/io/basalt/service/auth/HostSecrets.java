package io.basalt.service.auth;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.basalt.bridge.HostSecretService;
import io.basalt.bridge.InvalidVolumeRequestException;
import io.basalt.bridge.api.HostAuthentication;
import io.basalt.nvmetcp.auth.DhchapCredentials;
import io.basalt.nvmetcp.auth.DhchapKey;
import io.basalt.service.files.AtomicFiles;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The node's DH-HMAC-CHAP secrets, one set per host NQN, kept in {@value #FILE} in the data directory:
 * readable by the node's user only (mode 0600), replaced atomically and durably on every change.
 * The target asks {@link #credentials} at each Connect.
 */
public final class HostSecrets implements HostSecretService {
    public static final String FILE = "host-secrets.json";
    private static final Logger LOG = LoggerFactory.getLogger(HostSecrets.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<PosixFilePermission> OWNER_ONLY =
            Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);

    /** The file's content: host NQN to its secrets in the DHHC-1 form. */
    record Stored(Map<String, Secrets> hosts) {
    }

    record Secrets(String hostSecret, String controllerSecret) {
    }

    private final Path file;
    private final Map<String, DhchapCredentials> credentials = new ConcurrentHashMap<>();
    /** What the file holds; changes are serialised on it. */
    private final Map<String, Secrets> stored = new TreeMap<>();
    private volatile Runnable onChange = () -> { };

    private HostSecrets(Path file) {
        this.file = file;
    }

    /** Reads the secrets of {@code dataDir}, if any; a file others may read is made private first. */
    public static HostSecrets open(Path dataDir) throws IOException {
        HostSecrets secrets = new HostSecrets(dataDir.resolve(FILE));
        if (Files.exists(secrets.file)) {
            if (!Files.getPosixFilePermissions(secrets.file).equals(OWNER_ONLY)) {
                LOG.warn("{} was readable by others; making it private (0600)", secrets.file);
                Files.setPosixFilePermissions(secrets.file, OWNER_ONLY);
            }
            Stored content = JSON.readValue(secrets.file.toFile(), Stored.class);
            content.hosts().forEach((host, s) -> {
                secrets.stored.put(host, s);
                secrets.credentials.put(host, credentials(s));
            });
            LOG.info("DH-HMAC-CHAP secrets loaded for {} host(s)", secrets.stored.size());
        }
        return secrets;
    }

    /** Runs after every change (to re-apply the ACLs of volumes that require authentication). */
    public void onChange(Runnable action) {
        this.onChange = action;
    }

    /** The host's credentials, or null when it does not authenticate. */
    public DhchapCredentials credentials(String hostNqn) {
        return credentials.get(hostNqn);
    }

    public boolean has(String hostNqn) {
        return credentials.containsKey(hostNqn);
    }

    @Override
    public HostAuthentication setSecrets(String hostNqn, String hostSecret, String controllerSecret) {
        Secrets secrets = new Secrets(hostSecret, controllerSecret);
        DhchapCredentials parsed = credentials(secrets);
        synchronized (stored) {
            Map<String, Secrets> next = new TreeMap<>(stored);
            next.put(hostNqn, secrets);
            persist(next);
            stored.put(hostNqn, secrets);
            credentials.put(hostNqn, parsed);
        }
        LOG.info("host {} now authenticates ({})", hostNqn, parsed.bidirectional() ? "bidirectional" : "unidirectional");
        onChange.run();
        return new HostAuthentication(hostNqn, parsed.bidirectional());
    }

    @Override
    public Optional<HostAuthentication> authentication(String hostNqn) {
        return Optional.ofNullable(credentials.get(hostNqn)).map(c -> new HostAuthentication(hostNqn, c.bidirectional()));
    }

    @Override
    public boolean removeSecrets(String hostNqn) {
        synchronized (stored) {
            if (!stored.containsKey(hostNqn)) {
                return false;
            }
            Map<String, Secrets> next = new TreeMap<>(stored);
            next.remove(hostNqn);
            persist(next);
            stored.remove(hostNqn);
            credentials.remove(hostNqn);
        }
        LOG.info("host {} no longer authenticates: its secrets were removed", hostNqn);
        onChange.run();
        return true;
    }

    private void persist(Map<String, Secrets> content) {
        try {
            AtomicFiles.writeOwnerOnly(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(new Stored(content)));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    /** Parses both secrets; a malformed one is the request's fault, named without echoing it. */
    private static DhchapCredentials credentials(Secrets s) {
        DhchapKey host = parse("hostSecret", s.hostSecret());
        DhchapKey controller = s.controllerSecret() == null ? null : parse("controllerSecret", s.controllerSecret());
        return new DhchapCredentials(host, controller);
    }

    private static DhchapKey parse(String field, String secret) {
        try {
            return DhchapKey.parse(secret);
        } catch (IllegalArgumentException e) {
            throw new InvalidVolumeRequestException(field, field + ": " + e.getMessage());
        }
    }
}
