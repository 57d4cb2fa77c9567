/**
 * Like `Promise.all`, but settles only once every promise has, and then rejects with the first
 * rejection in the order given: an operation on both ends of a pair fails with the same error
 * whichever end's command answered first, and nothing of it still runs once it has failed.
 */
export async function allInOrder<T>(promises: readonly Promise<T>[]): Promise<T[]> {
    const settled = await Promise.allSettled(promises);
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
    if (failed) throw failed.reason;
    return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
}
