package io.basalt.nvmetcp.nvmet;

import io.basalt.nvmetcp.auth.DhchapCredentials;
import io.basalt.nvmetcp.auth.DhchapPolicy;
import io.basalt.nvmetcp.pdu.PduFrameDecoder;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.util.concurrent.DefaultEventExecutorGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.EventExecutorGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;

/**
 * An NVMe/TCP target: subsystems, the discovery controller, and the ports hosts connect to.
 * Work for a connection stays on one event loop of the group given.
 */
public final class NvmeTarget implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(NvmeTarget.class);
    private static final int AUTHENTICATION_THREADS = 2;

    private final TargetOptions options;
    private final EventLoopGroup group;
    private final Map<String, Subsystem> subsystems = new ConcurrentHashMap<>();
    private final Map<Integer, Controller> controllers = new ConcurrentHashMap<>();
    private final List<BoundPort> ports = new CopyOnWriteArrayList<>();
    private final ChannelGroup channels = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    /** The next controller ID tried for discovery controllers, which belong to no subsystem. */
    private final AtomicInteger nextDiscoveryCntlid = new AtomicInteger(CntlidRange.ALL.first());
    private final AtomicInteger connections = new AtomicInteger();
    private final AtomicInteger queuePairs = new AtomicInteger();
    private final Map<String, Integer> connectionsPerHost = new ConcurrentHashMap<>();
    private final NodeDataBudget dataBudget;
    private final SecureRandom random = new SecureRandom();
    private final LongAdder authenticationFailures = new LongAdder();
    private final LongAdder authentications = new LongAdder();
    /** Each port's ANA states, by the address {@link #listen} completed with. */
    private final Map<InetSocketAddress, PortAnaStates> anaByListener = new ConcurrentHashMap<>();
    /** Incremented on every ANA state change of any port and subsystem: the ANA log's change count. */
    private final AtomicLong anaChangeCount = new AtomicLong();
    private volatile Function<String, DhchapCredentials> credentials = hostNqn -> null;
    private volatile DhchapPolicy dhchapPolicy = DhchapPolicy.defaults();
    private volatile Function<String, List<SubsystemPortal>> otherPortals = hostNqn -> List.of();
    /**
     * Diffie-Hellman exponentiations take from milliseconds (ffdhe2048) to a few hundred (ffdhe8192):
     * they run here, never on the event loops that carry every connection's I/O. Each queue uses one
     * executor of the group, so its messages are handled in order.
     */
    private volatile EventExecutorGroup authenticationWork = new DefaultEventExecutorGroup(AUTHENTICATION_THREADS,
            new DefaultThreadFactory("nvmet-authentication", true));

    /** A port the target listens on, with the number the discovery log gives it. */
    public record BoundPort(int id, String advertisedAddress, int port, boolean discoveryOnly) {
    }

    public NvmeTarget(TargetOptions options, EventLoopGroup group) {
        this.options = options;
        this.group = group;
        this.dataBudget = new NodeDataBudget(options.limits().nodeDataBytes());
    }

    public TargetOptions options() {
        return options;
    }

    /**
     * Enables in-band authentication: {@code credentials} gives a host's secrets by its NQN, or null for
     * a host that does not authenticate. Applies to queues connected from now on.
     */
    public void authentication(Function<String, DhchapCredentials> credentials, DhchapPolicy policy) {
        this.credentials = credentials;
        this.dhchapPolicy = policy;
    }

    DhchapCredentials credentials(String hostNqn) {
        return credentials.apply(hostNqn);
    }

    DhchapPolicy dhchapPolicy() {
        return dhchapPolicy;
    }

    SecureRandom random() {
        return random;
    }

    EventExecutor authenticationExecutor() {
        return authenticationWork.next();
    }

    /** For tests on an embedded channel, whose event loop is the test's thread: run authentication there too. */
    void runAuthenticationOn(EventExecutorGroup executors) {
        EventExecutorGroup replaced = authenticationWork;
        authenticationWork = executors;
        replaced.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    void authenticationSucceeded() {
        authentications.increment();
    }

    void authenticationFailed() {
        authenticationFailures.increment();
    }

    /** Queues whose host completed authentication. */
    public long authenticationCount() {
        return authentications.sum();
    }

    /** Authentication transactions that failed or timed out, each of which ended a controller. */
    public long authenticationFailureCount() {
        return authenticationFailures.sum();
    }

    /**
     * Subsystems served elsewhere (other nodes) that the discovery log lists, for a host NQN, after
     * this target's own entries. Called on an event loop for each discovery log read: it must answer
     * from memory, without blocking.
     */
    public void discoveryPortals(Function<String, List<SubsystemPortal>> portals) {
        this.otherPortals = Objects.requireNonNull(portals);
    }

    List<SubsystemPortal> otherPortals(String hostNqn) {
        return otherPortals.apply(hostNqn);
    }

    public void addSubsystem(Subsystem subsystem) {
        if (subsystems.putIfAbsent(subsystem.nqn(), subsystem) != null) {
            throw new IllegalStateException("subsystem " + subsystem.nqn() + " already exists");
        }
    }

    /**
     * Stops offering a subsystem to new connections; controllers already connected to it keep it, with
     * whatever namespaces it still has (remove them first to end their I/O).
     */
    public void removeSubsystem(String nqn) {
        if (subsystems.remove(nqn) != null) {
            anaByListener.values().forEach(port -> port.forget(nqn));
        }
    }

    public Subsystem subsystem(String nqn) {
        return subsystems.get(nqn);
    }

    public Collection<Subsystem> subsystems() {
        return List.copyOf(subsystems.values());
    }

    List<BoundPort> ioPorts() {
        return ports.stream().filter(p -> !p.discoveryOnly()).toList();
    }

    /** Starts listening; port 0 picks a free port. Completes with the bound address. */
    public CompletableFuture<InetSocketAddress> listen(TargetPort port) {
        CompletableFuture<InetSocketAddress> result = new CompletableFuture<>();
        Class<? extends ServerChannel> channelType =
                group instanceof EpollEventLoopGroup ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
        int maxPdu = TargetQueue.maxPduLength(options);
        PortAnaStates ana = new PortAnaStates();
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(group)
                .channel(channelType)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        channels.add(ch);
                        ch.pipeline().addLast(
                                new FlushConsolidationHandler(256, true),
                                new PduFrameDecoder(maxPdu),
                                new TargetQueue(NvmeTarget.this, port.discoveryOnly(), ana));
                    }
                });
        bootstrap.bind(port.bindAddress(), port.port()).addListener(f -> {
            if (!f.isSuccess()) {
                result.completeExceptionally(f.cause());
                return;
            }
            Channel server = ((io.netty.channel.ChannelFuture) f).channel();
            channels.add(server);
            InetSocketAddress bound = (InetSocketAddress) server.localAddress();
            anaByListener.put(bound, ana);
            ports.add(new BoundPort(ports.size() + 1, port.advertisedAddress(), bound.getPort(), port.discoveryOnly()));
            log.info("NVMe/TCP {} listening on {}:{}", port.discoveryOnly() ? "discovery" : "target",
                    port.bindAddress(), bound.getPort());
            result.complete(bound);
        });
        return result;
    }

    /**
     * Sets the ANA state of {@code anaGroup} of subsystem {@code subsystemNqn} as hosts see it through the
     * port listening at {@code listener} (the address {@link #listen} completed with). ANA groups are a
     * subsystem's own: other subsystems' groups of the same number keep their states. Controllers of
     * that subsystem connected through that port whose host sees a namespace of the group are sent an
     * ANA change notice; I/O to the group's namespaces through that port follows the new state from the
     * next command on. The subsystem need not be added yet: a state set first is the one its first
     * host sees (until the subsystem is removed).
     */
    public void anaState(InetSocketAddress listener, String subsystemNqn, int anaGroup, AnaState state) {
        AnaGroupStates ana = anaGroupStates(listener, subsystemNqn, anaGroup);
        synchronized (anaChangeCount) { // one count per change, whichever port it is on
            long count = anaChangeCount.get() + 1;
            if (!ana.set(anaGroup, state, count)) {
                return;
            }
            anaChangeCount.set(count);
        }
        log.info("ANA group {} of {} on {}: {}", anaGroup, subsystemNqn, listener, state);
        for (Controller ctrl : controllers.values()) {
            if (ctrl.anaStates() == ana && !ctrl.isDiscovery() && ctrl.subsystem().seesAnaGroup(ctrl.hostNqn(), anaGroup)) {
                ctrl.anaChanged();
            }
        }
    }

    /**
     * Sets the ANA state of a subsystem's group on every port of this target: a node whose every path to
     * the subsystem is in one state, as a node holding one copy of a volume served from several nodes.
     */
    public void anaState(String subsystemNqn, int anaGroup, AnaState state) {
        anaByListener.keySet().forEach(listener -> anaState(listener, subsystemNqn, anaGroup, state));
    }

    /** The ANA state of {@code anaGroup} of a subsystem through the port listening at {@code listener}. */
    public AnaState anaState(InetSocketAddress listener, String subsystemNqn, int anaGroup) {
        return anaGroupStates(listener, subsystemNqn, anaGroup).state(anaGroup);
    }

    private AnaGroupStates anaGroupStates(InetSocketAddress listener, String subsystemNqn, int anaGroup) {
        if (anaGroup < 1 || anaGroup > Namespace.MAX_ANA_GROUP) {
            throw new IllegalArgumentException("ANA group " + anaGroup + " outside 1.." + Namespace.MAX_ANA_GROUP);
        }
        PortAnaStates ana = anaByListener.get(listener);
        if (ana == null) {
            throw new IllegalArgumentException("no port listens at " + listener);
        }
        return ana.of(subsystemNqn);
    }

    long anaChangeCount() {
        return anaChangeCount.get();
    }

    /**
     * Creates a controller for an admin queue Connect, with an ID from its subsystem's range and unused
     * on this target; null when every ID of the range is taken.
     */
    Controller createController(Subsystem subsystem, String hostNqn, UUID hostId, int keepAliveMillis, TargetQueue admin) {
        CntlidRange range = subsystem == null ? CntlidRange.ALL : subsystem.cntlids();
        AtomicInteger next = subsystem == null ? nextDiscoveryCntlid : subsystem.nextCntlid();
        for (int attempt = 0; attempt < range.size(); attempt++) {
            int cntlid = range.next(next);
            if (!controllers.containsKey(cntlid)) {
                Controller ctrl = new Controller(this, cntlid, subsystem, hostNqn, hostId, keepAliveMillis, admin);
                if (controllers.putIfAbsent(cntlid, ctrl) == null) {
                    if (subsystem != null) {
                        subsystem.register(ctrl);
                    }
                    return ctrl;
                }
            }
        }
        return null;
    }

    Controller controller(int cntlid) {
        return controllers.get(cntlid);
    }

    void controllerDestroyed(Controller ctrl) {
        controllers.remove(ctrl.cntlid(), ctrl);
    }

    NodeDataBudget dataBudget() {
        return dataBudget;
    }

    /** Data bytes held by commands in flight on every connection (writes asked for or sent in I/O capsules, reads not yet sent). */
    public long dataBytesInUse() {
        return dataBudget.used();
    }

    /**
     * Counts a new connection from {@code host} (its IP address), or returns false when that would
     * exceed {@link ResourceLimits#connectionsPerHost()} or {@link ResourceLimits#connectionsPerNode()}.
     */
    boolean admitConnection(String host) {
        ResourceLimits limits = options.limits();
        if (connections.incrementAndGet() > limits.connectionsPerNode()) {
            connections.decrementAndGet();
            return false;
        }
        int fromHost = connectionsPerHost.merge(host, 1, Integer::sum);
        if (fromHost > limits.connectionsPerHost()) {
            releaseConnection(host);
            return false;
        }
        return true;
    }

    private void releaseConnection(String host) {
        connectionsPerHost.computeIfPresent(host, (h, n) -> n == 1 ? null : n - 1);
        connections.decrementAndGet();
    }

    void connectionClosed(TargetQueue queue, String host) {
        releaseConnection(host);
        if (queue.controller() != null) {
            queuePairs.decrementAndGet();
        }
    }

    void queueConnected() {
        queuePairs.incrementAndGet();
    }

    public int connectionCount() {
        return connections.get();
    }

    public int queuePairCount() {
        return queuePairs.get();
    }

    public int controllerCount() {
        return controllers.size();
    }

    /** Stops listening and closes every connection; the event loop group stays the caller's. */
    @Override
    public void close() {
        channels.close().awaitUninterruptibly();
        authenticationWork.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
}
