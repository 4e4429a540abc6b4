package io.edgefleet.agent.commands;

import java.nio.file.Path;
import java.util.function.DoubleConsumer;

/**
 * Brings a model version onto the device for a {@code deploy} command: downloads the variant for
 * this device, verifies it, and places it in the data folder. The command handler knows nothing
 * of HTTP or signatures.
 */
public interface Deployer {
    /**
     * @param progress receives the fraction done, 0..1, as the download advances
     * @return the verified file, in the data folder
     */
    Path fetch(String model, String version, DoubleConsumer progress);
}
