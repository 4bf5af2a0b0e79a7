package io.basalt.attach;

import com.github.tomakehurst.wiremock.WireMockServer;
import io.basalt.bridge.client.VolumeApiClient;
import io.basalt.bridge.api.Volume;
import io.basalt.bridge.api.Portal;
import io.basalt.attach.libvirt.GuestDomain;
import io.basalt.attach.libvirt.Hypervisor;
import io.basalt.attach.libvirt.LiveDomainXml;
import io.basalt.attach.userspace.FakeBridges;
import io.basalt.attach.userspace.UserspaceConnector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.anyRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.delete;
import static com.github.tomakehurst.wiremock.client.WireMock.deleteRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.equalToJson;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static com.github.tomakehurst.wiremock.stubbing.Scenario.STARTED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Error paths of attach and detach: the volume API is WireMock, the bridge a real child process
 * that keeps the bridge's contract, libvirt a fake that fails the way libvirt does.
 */
class AttacherTest {
    private static final String HOST = "nqn.2014-08.com.example:host-1";
    private static final String VOLUME_ID = "5f0e7a52-9a3c-4c8e-8f0b-3b9a1d2c4e6f";
    private static final String VOLUME_PATH = "/api/v1/volumes/" + VOLUME_ID;
    private static final String HOST_PATH = VOLUME_PATH + "/hosts/nqn.2014-08.com.example%3Ahost-1";
    private static final String NO_HOSTS = volumeJson("[]");
    private static final String THIS_HOST = volumeJson("[\"" + HOST + "\"]");

    @TempDir
    Path stateDir;

    private WireMockServer api;
    private AttachmentStore store;
    private final List<DiskSource> connected = new ArrayList<>();
    private final List<Attachment> disconnected = new ArrayList<>();

    private static String volumeJson(String hosts) {
        return """
                {"id":"%s","name":"v","sizeBytes":1048576,"nqn":"nqn.2026-11.io.basalt:subsystem:n1","nsid":1,
                 "uuid":"1b1e5cfc-f504-41d0-bc39-3592c6f1ee74","nguid":"06da944efb6b6c7cd21c56085df6c638","hosts":%s,
                 "portals":[{"transport":"tcp","address":"127.0.0.1","port":4420}]}""".formatted(VOLUME_ID, hosts);
    }

    @BeforeEach
    void start() {
        api = new WireMockServer(options().bindAddress("127.0.0.1").dynamicPort());
        api.start();
        store = new AttachmentStore(stateDir);
    }

    @AfterEach
    void stop() {
        api.stop();
    }

    /** An ACL that remembers this host between calls, as the real API does. */
    private void stubAclStartingWithout() {
        api.stubFor(get(VOLUME_PATH).inScenario("acl").whenScenarioStateIs(STARTED).willReturn(okJson(NO_HOSTS)));
        api.stubFor(post(VOLUME_PATH + "/hosts").inScenario("acl").whenScenarioStateIs(STARTED)
                .willReturn(okJson(THIS_HOST)).willSetStateTo("allowed"));
        api.stubFor(get(VOLUME_PATH).inScenario("acl").whenScenarioStateIs("allowed").willReturn(okJson(THIS_HOST)));
        api.stubFor(delete(HOST_PATH).inScenario("acl").whenScenarioStateIs("allowed")
                .willReturn(okJson(NO_HOSTS)).willSetStateTo(STARTED));
    }

    private Attacher attacher(Hypervisor hypervisor, VolumeConnector userspace) {
        return attacher(hypervisor, userspace, URI.create(api.baseUrl()));
    }

    private Attacher attacher(Hypervisor hypervisor, VolumeConnector userspace, URI apiUrl) {
        return new Attacher(new VolumeApiClient(apiUrl, null, Duration.ofSeconds(2)), hypervisor,
                Map.of(AttachMode.USERSPACE, recording(userspace)), store, HOST, Duration.ofSeconds(1));
    }

    /** Passes calls through and remembers them, so a test can find the bridge it must see stopped. */
    private VolumeConnector recording(VolumeConnector inner) {
        return new VolumeConnector() {
            @Override
            public DiskSource connect(Volume volume, String domain, boolean shared) throws AttachException {
                DiskSource source = inner.connect(volume, domain, shared);
                connected.add(source);
                return source;
            }

            @Override
            public void disconnect(Attachment attachment, boolean shared) throws AttachException {
                disconnected.add(attachment);
                inner.disconnect(attachment, shared);
            }
        };
    }

    private VolumeConnector bridges() {
        return new UserspaceConnector(FakeBridges.ready(), store, HOST);
    }

    private static String domainXml(String... disks) {
        return "<domain type='qemu'><name>guest</name><devices>"
                + "<disk type='file' device='disk'><target dev='vda' bus='virtio'/></disk>"
                + String.join("", disks) + "</devices></domain>";
    }

    /** A running guest whose libvirt refuses every device and never lets a disk go. */
    private static Hypervisor refusingGuest(String liveXml) {
        return new Hypervisor() {
            @Override
            public GuestDomain runningDomain(String name) {
                return new RefusingDomain(name, liveXml);
            }

            @Override
            public boolean isRunning(String name) {
                return true;
            }
        };
    }

    private static Hypervisor noDomains() {
        return new Hypervisor() {
            @Override
            public GuestDomain runningDomain(String name) throws AttachException {
                throw new AttachException("no domain named " + name + " at qemu:///system");
            }

            @Override
            public boolean isRunning(String name) {
                return false;
            }
        };
    }

    private record RefusingDomain(String name, String xml) implements GuestDomain {
        @Override
        public LiveDomainXml liveXml() {
            return LiveDomainXml.parse(xml);
        }

        @Override
        public void attachDisk(String diskXml) throws AttachException {
            throw new AttachException("libvirt refused to attach the disk to domain " + name
                    + ": internal error: unable to execute QEMU command 'device_add': Bus 'pcie.0' does not support hotplugging");
        }

        @Override
        public void detachDisk(String serial, Duration timeout) throws AttachException {
            throw new AttachException("domain " + name + " still lists disk " + serial + " " + timeout.toSeconds()
                    + " s after the detach request; the guest has not released it");
        }

        @Override
        public void close() {
        }
    }

    private void assertNothingLeftBehind() throws IOException {
        for (DiskSource source : connected) {
            long pid = ((DiskSource.NbdSocket) source).bridgePid();
            assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "bridge " + pid + " still runs");
        }
        try (Stream<Path> files = Files.list(stateDir)) {
            assertEquals(List.of(), files.filter(f -> !f.getFileName().toString().startsWith(".")).toList());
        }
    }

    @Test
    void unknownDomainFailsBeforeTheApiIsAsked() {
        AttachException e = assertThrows(AttachException.class,
                () -> attacher(noDomains(), bridges()).attach("nope", VOLUME_ID, AttachMode.USERSPACE));
        assertTrue(e.getMessage().contains("no domain named nope"), e.getMessage());
        api.verify(0, anyRequestedFor(anyUrl()));
    }

    @Test
    void aVolumeAlreadyAttachedIsRefusedAndNothingChanges() {
        Hypervisor guest = refusingGuest(domainXml("<disk type='block'><target dev='vdb'/><serial>" + VOLUME_ID + "</serial></disk>"));
        AttachException e = assertThrows(AttachException.class,
                () -> attacher(guest, bridges()).attach("guest", VOLUME_ID, AttachMode.USERSPACE));
        assertTrue(e.getMessage().contains("already attached"), e.getMessage());
        api.verify(0, anyRequestedFor(anyUrl()));
        assertEquals(List.of(), connected);
    }

    @Test
    void unknownVolumeIsNamed() {
        api.stubFor(get(VOLUME_PATH).willReturn(aResponse().withStatus(404)
                .withHeader("Content-Type", "application/json").withBody("{\"error\":\"no volume " + VOLUME_ID + "\"}")));
        AttachException e = assertThrows(AttachException.class,
                () -> attacher(refusingGuest(domainXml()), bridges()).attach("guest", VOLUME_ID, AttachMode.USERSPACE));
        assertTrue(e.getMessage().startsWith("unknown volume " + VOLUME_ID), e.getMessage());
        assertEquals(List.of(), connected);
    }

    /** Said "volume API unreachable" twice and not why before. */
    @Test
    void anUnreachableApiIsNamedOnceWithItsCause() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        Attacher attacher = attacher(refusingGuest(domainXml()), bridges(), URI.create("http://127.0.0.1:" + closedPort));
        AttachException e = assertThrows(AttachException.class, () -> attacher.attach("guest", VOLUME_ID, AttachMode.USERSPACE));
        assertTrue(e.getMessage().matches("cannot look up volume " + VOLUME_ID + ": GET http://127\\.0\\.0\\.1:\\d+/api/v1/volumes/"
                + VOLUME_ID + ": volume API unreachable: connection to 127\\.0\\.0\\.1:\\d+ refused .*"), e.getMessage());
        assertEquals(List.of(), connected);
    }

    @Test
    void whenLibvirtRefusesTheDiskTheBridgeStopsAndTheAclEntryGoes() throws Exception {
        stubAclStartingWithout();
        AttachException e = assertThrows(AttachException.class,
                () -> attacher(refusingGuest(domainXml()), bridges()).attach("guest", VOLUME_ID, AttachMode.USERSPACE));
        assertTrue(e.getMessage().contains("libvirt refused"), e.getMessage());
        assertEquals(0, e.getSuppressed().length, "every rollback step worked");
        assertEquals(1, connected.size());
        assertEquals(1, disconnected.size());
        assertNothingLeftBehind();
        api.verify(postRequestedFor(urlEqualTo(VOLUME_PATH + "/hosts")).withRequestBody(equalToJson("{\"hostNqn\":\"" + HOST + "\"}")));
        api.verify(deleteRequestedFor(urlEqualTo(HOST_PATH)));
    }

    @Test
    void anAclEntryThatWasThereBeforeIsKeptOnRollback() throws Exception {
        api.stubFor(get(VOLUME_PATH).willReturn(okJson(THIS_HOST)));
        assertThrows(AttachException.class,
                () -> attacher(refusingGuest(domainXml()), bridges()).attach("guest", VOLUME_ID, AttachMode.USERSPACE));
        api.verify(0, postRequestedFor(anyUrl()));
        api.verify(0, deleteRequestedFor(anyUrl()));
        assertNothingLeftBehind();
    }

    @Test
    void aBridgeThatNeverGetsReadyIsKilledAndTheAclEntryGoes() throws Exception {
        stubAclStartingWithout();
        VolumeConnector silent = new UserspaceConnector(FakeBridges.silent(Duration.ofSeconds(2)), store, HOST);
        AttachException e = assertThrows(AttachException.class,
                () -> attacher(refusingGuest(domainXml()), silent).attach("guest", VOLUME_ID, AttachMode.USERSPACE));
        assertTrue(e.getMessage().contains("NBD bridge was not ready"), e.getMessage());
        api.verify(deleteRequestedFor(urlEqualTo(HOST_PATH)));
        assertNothingLeftBehind();
    }

    @Test
    void aDiskTheGuestKeepsIsNotPulledFromUnderIt() throws Exception {
        store.save(new Attachment("guest", VOLUME_ID, AttachMode.USERSPACE, "nqn.2026-11.io.basalt:subsystem:n1", 0));
        Hypervisor guest = refusingGuest(domainXml("<disk type='network'><target dev='vdb'/><serial>" + VOLUME_ID + "</serial></disk>"));
        AttachException e = assertThrows(AttachException.class, () -> attacher(guest, bridges()).detach("guest", VOLUME_ID));
        assertTrue(e.getMessage().contains("has not released it"), e.getMessage());
        assertEquals(List.of(), disconnected);
        assertTrue(store.find("guest", VOLUME_ID).isPresent());
        api.verify(0, anyRequestedFor(anyUrl()));
    }

    @Test
    void detachingWhatIsNotAttachedIsAnError() {
        AttachException e = assertThrows(AttachException.class,
                () -> attacher(refusingGuest(domainXml()), bridges()).detach("guest", VOLUME_ID));
        assertTrue(e.getMessage().contains("is not attached"), e.getMessage());
    }

    @Test
    void detachingFromAGuestThatIsGoneStillStopsTheBridgeAndDropsTheAclEntry() throws Exception {
        api.stubFor(get(VOLUME_PATH).willReturn(okJson(THIS_HOST)));
        api.stubFor(delete(HOST_PATH).willReturn(okJson(NO_HOSTS)));
        Volume volume = new Volume(VOLUME_ID, "a", "default", 1 << 20, false, 1,
                "nqn.2026-11.io.basalt:subsystem:n1", 1, UUID.fromString("1b1e5cfc-f504-41d0-bc39-3592c6f1ee74"),
                "1b1e5cfcf50441d0bc393592c6f1ee74", List.of(HOST), List.of(new Portal("tcp", "127.0.0.1", 4420)),
                null, null, null);
        DiskSource bridge = recording(bridges()).connect(volume, "gone", false);
        store.save(new Attachment("gone", VOLUME_ID, AttachMode.USERSPACE, volume.nqn(), ((DiskSource.NbdSocket) bridge).bridgePid()));
        attacher(noDomains(), bridges()).detach("gone", VOLUME_ID);
        assertNothingLeftBehind();
        api.verify(deleteRequestedFor(urlEqualTo(HOST_PATH)));
    }
}
