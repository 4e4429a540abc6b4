package io.edgefleet.engines;

import io.edgefleet.protocols.oip.InferTensor;
import java.util.List;

/**
 * A model loaded into native memory, ready to answer. Thread-safe: up to
 * {@link LoadStats#poolSize()} calls run at once; more wait up to the acquire timeout and then
 * get {@link EngineBusyException}. {@link #infer} blocks the calling thread for the native call, so
 * call it from a bounded pool of platform threads, not from a virtual thread.
 * {@link #close()} waits for running calls and frees the native memory.
 */
public interface LoadedModel extends AutoCloseable {
    ModelSignature signature();

    LoadStats stats();

    /**
     * Runs the model.
     *
     * @param inputs one tensor per model input, by name
     * @return every output, in the model's order, named as the model names them
     * @throws InvalidInputException before the native call when the inputs do not match the signature
     * @throws EngineBusyException when no session frees up within the acquire timeout
     * @throws InferenceFailedException when the runtime fails
     */
    List<InferTensor> infer(List<InferTensor> inputs);

    /**
     * Checks inputs as {@link #infer} does before its native call ({@link InputRules}), without
     * running anything: a caller that queues or batches requests refuses a bad one before it
     * takes a place in the queue or joins a batch. Any thread; no native call.
     *
     * @return the inputs in the model's order
     * @throws InvalidInputException naming the rule broken
     */
    default List<InferTensor> check(List<InferTensor> inputs) {
        return SignatureCheck.ordered("(model)", signature(), inputs);
    }

    /**
     * Runs the model on inputs that {@link #check} returned, without checking them again (the
     * agent and the cloud role check before queueing). Same contract as {@link #infer} otherwise;
     * inputs that did not come from {@link #check} may reach the runtime unchecked.
     */
    default List<InferTensor> inferChecked(List<InferTensor> checked) {
        return infer(checked);
    }

    @Override
    void close();
}
