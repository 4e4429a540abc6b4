package io.edgefleet.cli;

import io.edgefleet.agent.slots.ModelSlots;
import io.edgefleet.agent.store.AgentStore;
import io.edgefleet.engines.EngineOptions;
import io.edgefleet.engines.isolation.IsolationOptions;
import io.edgefleet.profiles.DeviceProfile;
import io.edgefleet.profiles.catalog.DeviceCatalog;
import io.edgefleet.profiles.probe.HostProbe;
import io.edgefleet.protocols.manifest.Manifest;
import io.edgefleet.protocols.messages.MessageCodec;
import io.edgefleet.sync.Bundles;
import io.edgefleet.sync.chunks.ChunkStore;
import io.edgefleet.sync.server.DirectoryManifests;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** Offline bundles: {@code edgefleet model bundle} writes one, {@code edgefleet agent install} installs one. */
final class BundleCommands {
    private BundleCommands() {
    }

    @Command(name = "bundle",
            description = "Write a signed model version and its chunks from a sync repository into one file, for offline devices.")
    static final class Bundle implements Callable<Integer> {
        @picocli.CommandLine.Mixin HelpOption help; // not the standard mixin: its --version would clash with ours
        @Option(names = "--repo", required = true, paramLabel = "DIR") Path repo;
        @Option(names = "--model", required = true) String model;
        @Option(names = "--version", required = true) String version;
        @Option(names = "--out", required = true, paramLabel = "FILE") Path out;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            byte[] json = new DirectoryManifests(repo.resolve("manifests")).manifest(model, version)
                    .orElseThrow(() -> new IllegalArgumentException("no manifest " + model + "/" + version + " in " + repo));
            Manifest m = MessageCodec.json().decode(json, Manifest.class);
            Bundles.write(m, new ChunkStore(repo.resolve("chunks")), out);
            spec.commandLine().getOut().printf("wrote %s: %s/%s, %d variant(s), %d bytes%n", out, model, version, m.variants().size(), Files.size(out));
            return Main.OK;
        }
    }

    @Command(name = "install", mixinStandardHelpOptions = true,
            description = {"Install a model version from an offline bundle into an agent's data folder, with no network: the signature",
                "and every chunk are verified, the variant for the profile is chosen, loaded in an isolated JVM and made active.",
                "Run it while the agent is stopped; the agent serves it when it starts."})
    static final class Install implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "BUNDLE") Path bundle;
        @Option(names = "--data-dir", required = true, paramLabel = "DIR") Path dataDir;
        @Option(names = "--trust", required = true, paramLabel = "KEYID=FILE") List<String> trust;
        @Option(names = "--profile", paramLabel = "ID", description = "Device profile (default: this host, probed).") String profile;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            // this device: the profile's runtimes that really load here (no TFLite on linux/aarch64 without a configured library)
            DeviceProfile p = profile != null ? DeviceCatalog.builtIn().get(profile).withRuntimesOnly(HostProbe.create().runtimes().stream()
                    .filter(io.edgefleet.profiles.probe.RuntimeStatus::loaded).map(io.edgefleet.profiles.probe.RuntimeStatus::runtime).toList())
                    : HostProbe.create().probe().profile();
            try (AgentStore store = AgentStore.open(dataDir);
                    ModelSlots slots = new ModelSlots(dataDir, store, EngineOptions.defaults(), IsolationOptions.defaults(), 5)) {
                slots.restore();
                Path staged = Files.createDirectories(dataDir.resolve("staging")).resolve("bundle-" + System.nanoTime());
                Bundles.Installed i = Bundles.install(bundle, new ChunkStore(dataDir.resolve("sync")), SyncCommands.trust(trust), p,
                        v -> staged, Instant.now());
                slots.install(i.manifest().model(), i.manifest().version(), i.file());
                Files.deleteIfExists(i.file());
                spec.commandLine().getOut().printf("installed %s/%s (variant %s) into %s%n", i.manifest().model(), i.manifest().version(),
                        i.variant().id(), dataDir);
            }
            return Main.OK;
        }
    }
}
