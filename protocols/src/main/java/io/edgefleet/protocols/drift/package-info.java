/**
 * Input and confidence drift statistics: what an agent measures per telemetry window ({@link io.edgefleet.protocols.drift.DriftStats},
 * built with {@link io.edgefleet.protocols.drift.DriftAccumulator} from the rows {@link io.edgefleet.protocols.drift.FeatureRows}
 * takes out of a request's tensors) and the cloud merges across devices and compares with a reference profile.
 * The same extraction runs on the operator's reference samples, so agent and cloud describe the same features.
 * See docs/drift.md.
 */
package io.edgefleet.protocols.drift;
