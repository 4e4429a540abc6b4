package io.edgefleet.agent.telemetry;

import io.edgefleet.agent.store.AgentStore;
import io.edgefleet.protocols.messages.MessageCodec;
import io.edgefleet.protocols.messages.ResourceUsage;
import io.edgefleet.protocols.messages.TelemetryBatch;
import io.edgefleet.protocols.messages.TelemetryRecord;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Aggregates observations into fixed windows per (model, version) and, when a window ends,
 * writes one {@link TelemetryBatch} with the next sequence number into the SQLite outbox. Windows
 * are aligned to multiples of the window length since the epoch. Time comes from the injected
 * clock, and {@link #runOnce()} closes due windows, so tests step it deterministically.
 *
 * <p>{@link #record} is called from inference threads; {@link #runOnce} from the telemetry loop.
 */
public final class TelemetryRecorder {
    private final AgentStore store;
    private final String fleet;
    private final String device;
    private final Duration window;
    private final int maxOutboxRows;
    private final Clock clock;
    /** Built on the first batch (under this object's lock): an agent that just started has not loaded Jackson's databind. */
    private MessageCodec json;
    private final Map<List<String>, Window> open = new LinkedHashMap<>();
    private final java.util.function.Supplier<Optional<ResourceUsage>> resources;
    private final Duration idleEvery;
    private Instant lastBatchAt;
    private Instant windowStart;
    private long droppedRefusals;

    private volatile java.util.function.BiFunction<String, String, Optional<io.edgefleet.protocols.messages.ShadowStats>> shadow =
            (m, v) -> Optional.empty();

    /**
     * Asked, when a window closes, for each (model, version) record what a shadow candidate did next to it
     * (docs/shadow.md); called on the telemetry thread.
     */
    public void shadowStats(java.util.function.BiFunction<String, String, Optional<io.edgefleet.protocols.messages.ShadowStats>> s) {
        this.shadow = java.util.Objects.requireNonNull(s);
    }

    private volatile java.util.function.BiFunction<String, String, Optional<io.edgefleet.protocols.messages.SplitStats>> split =
            (m, v) -> Optional.empty();

    /** Asked, when a window closes, for each (model, version) record what that version did as an A/B arm (docs/ab.md); telemetry thread. */
    public void splitStats(java.util.function.BiFunction<String, String, Optional<io.edgefleet.protocols.messages.SplitStats>> s) {
        this.split = java.util.Objects.requireNonNull(s);
    }

    private volatile java.util.function.Supplier<java.util.Set<List<String>>> splitPending = java.util.Set::of;

    /**
     * Asked, when a window closes, for the (model, version) pairs with A/B counts to report even without a request in the
     * window (labels that came back through the feedback call after the arm's last answer); each gets a record with
     * {@code count} 0 carrying its {@code split}. Telemetry thread.
     */
    public void splitPending(java.util.function.Supplier<java.util.Set<List<String>>> pending) {
        this.splitPending = java.util.Objects.requireNonNull(pending);
    }

    /** The most (model, version) windows a refused request may open in one telemetry window. */
    static final int MAX_WINDOWS = 64;

    public TelemetryRecorder(AgentStore store, String fleet, String device, Duration window, int maxOutboxRows, Clock clock) {
        this(store, fleet, device, window, maxOutboxRows, clock, Optional::empty, window);
    }

    /**
     * @param resources read when a window closes ({@link ResourceProbe#read}); present, it goes into that window's batch
     * @param idleEvery how often a window without requests still writes a batch carrying the resources alone (the state
     *     heartbeat's period), so an idle device keeps reporting its memory and disk without a batch every window
     */
    public TelemetryRecorder(AgentStore store, String fleet, String device, Duration window, int maxOutboxRows, Clock clock,
            java.util.function.Supplier<Optional<ResourceUsage>> resources, Duration idleEvery) {
        this.resources = resources;
        this.idleEvery = idleEvery;
        this.lastBatchAt = clock.instant();
        this.store = store;
        this.fleet = fleet;
        this.device = device;
        this.window = window;
        this.maxOutboxRows = maxOutboxRows;
        this.clock = clock;
        this.windowStart = align(clock.instant());
    }

    private Instant align(Instant t) {
        long w = window.toMillis();
        return Instant.ofEpochMilli(Math.floorDiv(t.toEpochMilli(), w) * w);
    }

    /**
     * Adds one request to its (model, version) window. A refused request names a model or version
     * the client chose, which may not exist: those open a window only while fewer than
     * {@link #MAX_WINDOWS} are open, so a client cannot grow the agent's memory or its batches
     * without bound; beyond that they are dropped (and counted in {@link #droppedRefusals()}).
     */
    public synchronized void record(Observation o) {
        List<String> key = List.of(o.model(), o.version());
        Window w = open.get(key);
        if (w == null) {
            if (o.refused() && open.size() >= MAX_WINDOWS) {
                droppedRefusals++;
                return;
            }
            w = new Window();
            open.put(key, w);
        }
        w.add(o);
    }

    /** Refused requests not counted because they named one (model, version) too many in their window. */
    public synchronized long droppedRefusals() {
        return droppedRefusals;
    }

    /**
     * Closes the window when it is over: its batch goes to the outbox (nothing when no request
     * came in and no resources are reported). Returns the sequence number written, if any.
     */
    public synchronized Optional<Long> runOnce() {
        Instant now = clock.instant();
        Instant end = windowStart.plus(window);
        if (now.isBefore(end)) {
            return Optional.empty();
        }
        List<TelemetryRecord> records = new ArrayList<>();
        Instant start = windowStart;
        for (List<String> key : splitPending.get()) {
            open.computeIfAbsent(key, k -> new Window());
        }
        open.forEach((key, w) -> records.add(w.close(key.get(0), key.get(1), start, end).withShadow(shadow.apply(key.get(0), key.get(1)))
                .withSplit(split.apply(key.get(0), key.get(1)))));
        open.clear();
        windowStart = align(now);
        if (records.isEmpty() && now.isBefore(lastBatchAt.plus(idleEvery))) {
            return Optional.empty();
        }
        Optional<ResourceUsage> used = resources.get();
        if (records.isEmpty() && used.isEmpty()) {
            return Optional.empty();
        }
        lastBatchAt = now;
        if (json == null) {
            json = MessageCodec.json();
        }
        MessageCodec codec = json;
        long seq = store.appendOutbox((sequence, lost) -> codec.encode(new TelemetryBatch(TelemetryBatch.SCHEMA_VERSION, fleet, device,
                sequence, now, records, lost, used)), maxOutboxRows);
        return Optional.of(seq);
    }
}
