package io.edgefleet.cloud.mqtt;

import io.edgefleet.cloud.fleet.FleetRegistry;
import io.edgefleet.cloud.fleet.StateListener;
import io.edgefleet.cloud.rollout.RolloutEngine;
import io.edgefleet.protocols.messages.DeviceState;
import io.edgefleet.transport.mqtt.Delivery;
import io.edgefleet.transport.mqtt.MqttSession;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BiConsumer;

/**
 * The control session's device messages ({@code state} and {@code cmd/ack}), applied in batches off
 * the MQTT callback thread (issue 18). The callback only puts each message on a bounded queue; one
 * writer thread ({@code device-inbox}) takes up to {@code batchSize} at a time and applies their
 * states in one transaction ({@link FleetRegistry#onStates}) and their acks in another
 * ({@link RolloutEngine#acknowledge}), on any replica, leader or not.
 *
 * <p><b>Nothing accepted is lost.</b> The session runs with manual acknowledgements: a message's
 * PUBACK is sent only after the transaction holding it committed (or after it was judged invalid and
 * dropped with a log line). If the process dies first, the broker still holds the message and sends
 * it again on the resumed session while that session lasts (docs/control-plane.md "Replicas": on
 * PostgreSQL it ends with the connection, and the devices' repetitions cover what it held). A batch
 * whose transaction fails is applied again one message at a time (unless the first two fail too:
 * the database is away); what still fails is kept, unacknowledged, and tried again first after a
 * pause (250 ms doubling to 30 s; the writer waits meanwhile, the queue fills and the broker holds
 * the rest). A message that failed {@value #MAX_ATTEMPTS} times is logged at ERROR as dropped and
 * acknowledged, so one message the database always refuses cannot stop the others for ever.
 * Applying a message twice is harmless: a state overwrites the device's row with itself; an ack
 * finds its device already in that state or past it.
 *
 * <p><b>Bound.</b> The broker sends at most Receive Maximum ({@link CloudMqtt}: 1000) unacknowledged
 * messages; the queue holds {@code capacity} (at least that), so the callback never waits in
 * practice; should it fill, the callback blocks and the broker holds the rest.
 *
 * <p>Threads: {@link #offer} on the MQTT callback thread; everything else on the writer thread;
 * {@link #close} on any.
 */
public final class DeviceInbox implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(DeviceInbox.class.getName());

    private record Item(Delivery message, MqttSession.Ack ack, boolean state, int attempts) {
        Item again() {
            return new Item(message, ack, state, attempts + 1);
        }
    }

    /** Tries of a message whose transaction keeps failing, before it is logged as dropped and acknowledged. */
    static final int MAX_ATTEMPTS = 8;
    /** The first pause before messages whose transaction failed are tried again; doubled each round, at most 30 s. */
    private static final long FIRST_PAUSE_MILLIS = 250;
    private final long firstPauseMillis;

    private final StateListener states;
    private final FleetRegistry fleet;
    private final AckRouter acks;
    private final RolloutEngine engine;
    private final int batchSize;
    private final BlockingQueue<Item> queue;
    private final Thread writer;
    private final LongAdder statesApplied = new LongAdder();
    private final LongAdder acksApplied = new LongAdder();
    private final LongAdder batches = new LongAdder();
    private volatile boolean closed;

    /**
     * Starts the writer thread.
     *
     * @param capacity queued messages at most (at least the session's Receive Maximum)
     * @param batchSize messages applied per transaction at most (&gt; 0)
     */
    public DeviceInbox(StateListener states, FleetRegistry fleet, AckRouter acks, RolloutEngine engine, int capacity, int batchSize) {
        this(states, fleet, acks, engine, capacity, batchSize, FIRST_PAUSE_MILLIS);
    }

    /** As the public constructor, with the first pause after a failed transaction (tests shorten it). */
    DeviceInbox(StateListener states, FleetRegistry fleet, AckRouter acks, RolloutEngine engine, int capacity, int batchSize,
            long firstPauseMillis) {
        this.firstPauseMillis = firstPauseMillis;
        if (batchSize < 1 || capacity < batchSize) {
            throw new IllegalArgumentException("device inbox: batch size " + batchSize + " must be 1.." + capacity + " (the capacity)");
        }
        this.states = states;
        this.fleet = fleet;
        this.acks = acks;
        this.engine = engine;
        this.batchSize = batchSize;
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.writer = Thread.ofPlatform().name("device-inbox").daemon().uncaughtExceptionHandler((t, e) ->
                LOG.log(System.Logger.Level.ERROR, "device inbox writer died: " + e, e)).start(this::run);
    }

    /**
     * Queues a {@code state} ({@code state} true) or {@code cmd/ack} message; blocks only while the queue is full. After
     * {@link #close} the message is not queued nor acknowledged: the broker sends it again on the next session.
     */
    public void offer(Delivery message, MqttSession.Ack ack, boolean state) {
        Item item = new Item(message, ack, state, 0);
        try {
            while (!closed && !queue.offer(item, 100, TimeUnit.MILLISECONDS)) {
                // full: the writer is behind; the broker holds what exceeds its Receive Maximum meanwhile
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // not acknowledged: the broker sends it again on the next session
        }
    }

    /** States applied since start. */
    public long statesApplied() {
        return statesApplied.sum();
    }

    /** Acknowledgements handed to the rollout engine since start (applied or judged not to apply). */
    public long acksApplied() {
        return acksApplied.sum();
    }

    /** Batches applied since start. */
    public long batches() {
        return batches.sum();
    }

    /** Messages waiting. */
    public int pending() {
        return queue.size();
    }

    private void run() {
        List<Item> batch = new ArrayList<>(batchSize);
        List<Item> failed = new ArrayList<>();
        long pause = firstPauseMillis;
        while (!closed) {
            try {
                if (failed.isEmpty()) {
                    Item first = queue.poll(200, TimeUnit.MILLISECONDS);
                    if (first == null) {
                        continue;
                    }
                    batch.add(first);
                } else {
                    // the database refused: wait, then try those first (the queue fills meanwhile; the broker holds the rest)
                    Thread.sleep(pause);
                    pause = Math.min(30_000, pause * 2);
                    batch.addAll(failed);
                    failed.clear();
                }
                queue.drainTo(batch, Math.max(0, batchSize - batch.size()));
                List<Item> notApplied;
                try {
                    notApplied = apply(batch);
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.WARNING, "device inbox: a batch of {0} not applied: {1}", batch.size(), e.toString());
                    notApplied = List.copyOf(batch); // unacknowledged; tried again
                }
                for (Item i : notApplied) {
                    if (i.attempts() + 1 >= MAX_ATTEMPTS) {
                        LOG.log(System.Logger.Level.ERROR, "device inbox: message on {0} dropped after {1} failed tries", i.message().topic(),
                                MAX_ATTEMPTS);
                        i.ack().ack();
                    } else {
                        failed.add(i.again());
                    }
                }
                if (failed.isEmpty()) {
                    pause = firstPauseMillis;
                }
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "device inbox: {0}", e.toString());
            } finally {
                batch.clear();
            }
        }
    }

    /**
     * Applies one batch: states in one transaction, acks in another; each message acknowledged once committed.
     *
     * @return the messages not applied (their transaction failed), not acknowledged
     */
    List<Item> apply(List<Item> batch) {
        batches.increment();
        List<Item> stateItems = new ArrayList<>();
        List<DeviceState> stateValues = new ArrayList<>();
        List<Item> ackItems = new ArrayList<>();
        List<RolloutEngine.FleetAck> ackValues = new ArrayList<>();
        for (Item i : batch) {
            if (i.state()) {
                Optional<DeviceState> s = states.accepted(i.message());
                if (s.isEmpty()) {
                    i.ack().ack(); // refused or cleared: logged, nothing to keep
                } else {
                    stateItems.add(i);
                    stateValues.add(s.get());
                }
            } else {
                int before = ackValues.size();
                acks.onMessage(i.message(), collect(ackValues));
                if (ackValues.size() == before) {
                    i.ack().ack(); // refused (sender not proven, another device, a refusal of a forged command): logged
                } else {
                    ackItems.add(i);
                }
            }
        }
        List<Item> failed = new ArrayList<>(commit(stateItems, stateValues, v -> fleet.onStates(v), statesApplied));
        failed.addAll(commit(ackItems, ackValues, v -> engine.acknowledge(v), acksApplied));
        return failed;
    }

    private static BiConsumer<String, io.edgefleet.protocols.messages.CommandAck> collect(List<RolloutEngine.FleetAck> into) {
        return (f, a) -> into.add(new RolloutEngine.FleetAck(Optional.of(f), a));
    }

    /** Applies {@code values} in one transaction, else one at a time; returns the items not applied (not acknowledged). */
    private <T> List<Item> commit(List<Item> items, List<T> values, java.util.function.Function<List<T>, ?> tx, LongAdder counter) {
        if (items.isEmpty()) {
            return List.of();
        }
        try {
            tx.apply(values);
            items.forEach(i -> i.ack().ack());
            counter.add(items.size());
            return List.of();
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "device inbox: a batch of {0} not applied ({1}); applying them one by one", items.size(),
                    e.toString());
        }
        List<Item> failed = new ArrayList<>();
        for (int k = 0; k < items.size(); k++) {
            try {
                tx.apply(List.of(values.get(k)));
                items.get(k).ack().ack();
                counter.increment();
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "device inbox: message on {0} not applied, tried again later: {1}",
                        items.get(k).message().topic(), e.toString());
                failed.add(items.get(k));
                if (k == 1 && failed.size() == 2) {
                    // the first two failed alone as well: the database is away rather than one message bad; the rest waits
                    failed.addAll(items.subList(k + 1, items.size()));
                    return failed;
                }
            }
        }
        return failed;
    }

    /** Stops the writer; messages still queued are not acknowledged, so the broker sends them again on the next session. */
    @Override
    public void close() {
        closed = true;
        writer.interrupt();
        try {
            writer.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
