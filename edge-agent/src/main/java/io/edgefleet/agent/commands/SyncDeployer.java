package io.edgefleet.agent.commands;

import io.edgefleet.profiles.DeviceProfile;
import io.edgefleet.sync.client.SyncClient;
import java.nio.file.Path;
import java.util.function.DoubleConsumer;

/**
 * {@link Deployer} over model sync: the variant for the device profile, chunks shared with
 * versions already on the device reused, the file placed at
 * {@code {data}/models/{model}/{version}.{tflite|onnx}} where activation looks for it. Chunks and
 * partial chunks live in {@code {data}/sync}, so a download killed at any point resumes.
 */
public final class SyncDeployer implements Deployer {
    private final SyncClient client;
    private final DeviceProfile profile;
    private final Path dataDir;

    public SyncDeployer(SyncClient client, DeviceProfile profile, Path dataDir) {
        this.client = client;
        this.profile = profile;
        this.dataDir = dataDir;
    }

    @Override
    public Path fetch(String model, String version, DoubleConsumer progress) {
        var manifest = client.manifest(model, version);
        var selection = io.edgefleet.profiles.select.VariantSelector.select(profile,
                manifest.variants().stream().map(io.edgefleet.profiles.select.Variant::of).toList());
        var variant = manifest.variant(selection.chosen().orElseThrow(() -> new io.edgefleet.sync.client.SyncException(
                "no variant of " + model + "/" + version + " fits profile " + profile.id() + ":\n" + selection.explain(), false, null))
                .id()).orElseThrow();
        String ext = variant.runtime().equals("tflite") ? "tflite" : "onnx";
        Path target = dataDir.resolve("models").resolve(model).resolve(version + "." + ext);
        client.download(variant, target, (done, total, reused, chunks) -> progress.accept(total == 0 ? 1 : (double) done / total));
        return target;
    }
}
