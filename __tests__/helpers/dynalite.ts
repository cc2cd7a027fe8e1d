// The tests use the same dynalite starter as the benchmarks.
export { startDynalite, type LocalDynamo } from '../../local/dynalite';
