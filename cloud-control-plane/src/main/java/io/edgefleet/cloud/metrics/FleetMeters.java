package io.edgefleet.cloud.metrics;

import io.edgefleet.cloud.fleet.DeviceRecord;
import io.edgefleet.cloud.fleet.FleetRegistry;
import io.edgefleet.cloud.fleet.Selector;
import io.edgefleet.cloud.registry.ModelRegistry;
import io.edgefleet.cloud.registry.ModelVersion;
import io.edgefleet.cloud.rollout.RolloutStore;
import io.edgefleet.protocols.messages.ModelState;
import io.edgefleet.protocols.messages.ResourceUsage;
import io.edgefleet.transport.metrics.LabelledGauges;
import io.helidon.metrics.api.MeterRegistry;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.ToDoubleFunction;

/**
 * The control plane's fleet-wide gauges, recomputed by {@link #refresh} (every few seconds on the housekeeping thread)
 * from the database, so a scrape never runs a query. Label sets are bounded by design:
 * <ul>
 * <li>{@code edgefleet_cloud_devices{status,profile,agent_version}}: devices per status ({@code registered}, {@code online},
 * {@code offline}, {@code stale}), profile and agent version — as many series as distinct combinations, not devices;</li>
 * <li>{@code edgefleet_cloud_device_models{model,version}}: devices whose active version of a model is that version;</li>
 * <li>{@code edgefleet_cloud_rollouts{state}}: rollouts per state; for each running or paused rollout,
 * {@code edgefleet_cloud_rollout_wave{rollout,model,version}} (the current wave, numbered from 1) and
 * {@code edgefleet_cloud_rollout_devices{rollout,state}};</li>
 * <li>{@code edgefleet_cloud_registry_models}, {@code edgefleet_cloud_registry_versions{status}};</li>
 * <li>resources the agents report: fleet aggregates {@code edgefleet_cloud_fleet_*{stat="min|median|max"}} over the
 * devices that reported, and per device ({@code edgefleet_cloud_device_*{fleet,device}}) only the {@link #topN} worst
 * for each figure (highest RSS and CPU, lowest free memory and disk). With 10,000 devices that is 6 × 3 aggregate series
 * plus at most 4 × N device series, never 10,000 × 6.</li>
 * </ul>
 * Thread-safe: {@link #refresh} runs on one thread; scrapes read the values.
 */
public final class FleetMeters implements AutoCloseable {
    private final FleetRegistry fleet;
    private final Optional<RolloutStore> rollouts;
    private final Optional<ModelRegistry> models;
    private final int topN;
    private final LabelledGauges devices;
    private final LabelledGauges deviceModels;
    private final LabelledGauges rolloutStates;
    private final LabelledGauges rolloutWave;
    private final LabelledGauges rolloutDevices;
    private final LabelledGauges registryModels;
    private final LabelledGauges registryVersions;
    private final LabelledGauges reporting;
    private final List<Figure> figures;
    private boolean closed;

    /** One reported figure: its fleet aggregate and its top-N per-device family. */
    private record Figure(ToDoubleFunction<ResourceUsage> value, boolean worstIsHighest, LabelledGauges fleet, LabelledGauges device) {
    }

    /**
     * @param topN how many devices per figure get a series of their own (0: aggregates only)
     */
    public FleetMeters(MeterRegistry registry, FleetRegistry fleet, Optional<RolloutStore> rollouts, Optional<ModelRegistry> models, int topN) {
        this.fleet = fleet;
        this.rollouts = rollouts;
        this.models = models;
        this.topN = topN;
        devices = new LabelledGauges(registry, "edgefleet.cloud.devices", "Devices by status, profile and agent version", null,
                List.of("status", "profile", "agent_version"));
        deviceModels = new LabelledGauges(registry, "edgefleet.cloud.device.models", "Devices whose active version of the model is this version",
                null, List.of("model", "version"));
        rolloutStates = new LabelledGauges(registry, "edgefleet.cloud.rollouts", "Rollouts by state", null, List.of("state"));
        rolloutWave = new LabelledGauges(registry, "edgefleet.cloud.rollout.wave", "Current wave (from 1) of each running or paused rollout",
                null, List.of("rollout", "model", "version"));
        rolloutDevices = new LabelledGauges(registry, "edgefleet.cloud.rollout.devices",
                "Devices of each running or paused rollout by their state in it", null, List.of("rollout", "state"));
        registryModels = new LabelledGauges(registry, "edgefleet.cloud.registry.models", "Models in the registry", null, List.of());
        registryVersions = new LabelledGauges(registry, "edgefleet.cloud.registry.versions", "Model versions in the registry by status", null,
                List.of("status"));
        reporting = new LabelledGauges(registry, "edgefleet.cloud.fleet.devices.reporting.resources",
                "Devices whose agent has reported its resource use", null, List.of());
        figures = List.of(
                figure(registry, "process.rss", "bytes", "resident memory of the agent process", ResourceUsage::processRssBytes, true),
                figure(registry, "process.cpu", "ratio", "CPU share of all cores used by the agent process", ResourceUsage::processCpuRatio, true),
                figure(registry, "host.cpu", "ratio", "CPU share of all cores used on the host", ResourceUsage::hostCpuRatio, true),
                figure(registry, "heap.used", "bytes", "JVM heap used by the agent", ResourceUsage::heapUsedBytes, true),
                figure(registry, "host.memory.available", "bytes", "memory the host can still give", ResourceUsage::hostMemoryAvailableBytes,
                        false),
                figure(registry, "data.disk.free", "bytes", "free space for the agent's data folder", ResourceUsage::dataDiskFreeBytes, false));
    }

    private static Figure figure(MeterRegistry registry, String name, String unit, String what, ToDoubleFunction<ResourceUsage> value,
            boolean worstIsHighest) {
        return new Figure(value, worstIsHighest,
                new LabelledGauges(registry, "edgefleet.cloud.fleet." + name, "Over the devices that reported it: min, median and max of the "
                        + what, unit, List.of("stat")),
                new LabelledGauges(registry, "edgefleet.cloud.device." + name, "The " + what + ", for the devices with the "
                        + (worstIsHighest ? "highest" : "lowest") + " values only (top N)", unit, List.of("fleet", "device")));
    }

    /** Removes every gauge of this object from the registry (the control plane closes; the registry lives on with the JVM). */
    @Override
    public synchronized void close() {
        closed = true;
        List<LabelledGauges> all = new ArrayList<>(List.of(devices, deviceModels, rolloutStates, rolloutWave, rolloutDevices, registryModels,
                registryVersions, reporting));
        for (Figure f : figures) {
            all.add(f.fleet());
            all.add(f.device());
        }
        all.forEach(g -> g.update(Map.of()));
    }

    /** Recomputes every gauge from the database. */
    public synchronized void refresh() {
        if (closed) {
            return;
        }
        Instant now = fleet.now();
        List<DeviceRecord> all = fleet.select(Selector.ALL);
        Map<List<String>, Integer> byStatus = new HashMap<>();
        Map<List<String>, Integer> byModel = new HashMap<>();
        for (DeviceRecord d : all) {
            byStatus.merge(List.of(d.status(now, fleet.staleAfter()).wire(), d.profile().orElse("none"), d.agentVersion().orElse("none")), 1,
                    Integer::sum);
            for (ModelState m : d.models()) {
                m.active().ifPresent(v -> byModel.merge(List.of(m.model(), v), 1, Integer::sum));
            }
        }
        devices.update(byStatus);
        deviceModels.update(byModel);
        resources(all);
        rollouts.ifPresent(this::rollouts);
        models.ifPresent(this::registry);
    }

    private void resources(List<DeviceRecord> all) {
        List<DeviceRecord> reported = all.stream().filter(d -> d.resources().isPresent()).toList();
        reporting.update(Map.of(List.of(), reported.size()));
        for (Figure f : figures) {
            List<DeviceRecord> known = reported.stream().filter(d -> f.value().applyAsDouble(d.resources().get()) >= 0).toList();
            Comparator<DeviceRecord> order = Comparator.comparingDouble(d -> f.value().applyAsDouble(d.resources().get()));
            List<DeviceRecord> sorted = new ArrayList<>(known);
            sorted.sort(order);
            Map<List<String>, Double> stats = new TreeMap<>(Comparator.comparing(Object::toString));
            if (!sorted.isEmpty()) {
                stats.put(List.of("min"), f.value().applyAsDouble(sorted.get(0).resources().get()));
                stats.put(List.of("median"), f.value().applyAsDouble(sorted.get(sorted.size() / 2).resources().get()));
                stats.put(List.of("max"), f.value().applyAsDouble(sorted.get(sorted.size() - 1).resources().get()));
            }
            f.fleet().update(stats);
            if (f.worstIsHighest()) {
                java.util.Collections.reverse(sorted);
            }
            Map<List<String>, Double> top = new HashMap<>();
            for (DeviceRecord d : sorted.subList(0, Math.min(topN, sorted.size()))) {
                top.put(List.of(d.fleet(), d.device()), f.value().applyAsDouble(d.resources().get()));
            }
            f.device().update(top);
        }
    }

    private void rollouts(RolloutStore store) {
        Map<List<String>, Integer> states = new HashMap<>();
        Map<List<String>, Integer> wave = new HashMap<>();
        Map<List<String>, Integer> devs = new HashMap<>();
        for (RolloutStore.RolloutRow r : store.list(Optional.empty())) {
            states.merge(List.of(r.state().wire()), 1, Integer::sum);
            if (r.state().active()) {
                wave.put(List.of(r.id(), r.model(), r.version()), r.wave() + 1);
                store.deviceCounts(r.id()).forEach((state, n) -> devs.merge(List.of(r.id(), state.wire()), (int) (long) n, Integer::sum));
            }
        }
        rolloutStates.update(states);
        rolloutWave.update(wave);
        rolloutDevices.update(devs);
    }

    private void registry(ModelRegistry registry) {
        var summaries = registry.models();
        registryModels.update(Map.of(List.of(), summaries.size()));
        Map<List<String>, Integer> versions = new HashMap<>();
        versions.put(List.of(ModelVersion.ACTIVE), 0);
        versions.put(List.of(ModelVersion.DEPRECATED), 0);
        for (var m : summaries) {
            for (ModelVersion v : registry.versions(m.name())) {
                versions.merge(List.of(v.status()), 1, Integer::sum);
            }
        }
        registryVersions.update(versions);
    }
}
