/**
 * The operational counts the functions publish (CloudWatch EMF on AWS, namespace Downlink): commands by outcome,
 * messages by the final status they reach, batch sub-tasks by the result of their attempt.
 */
export type MetricName =
  | 'CommandsSent'
  | 'CommandsAnswered'
  | 'CommandsTimedOut'
  | 'MessagesDelivered'
  | 'MessagesFailed'
  | 'MessagesTimedOut'
  | 'BatchSubtasksSucceeded'
  | 'BatchSubtasksFailed'
  | 'BatchSubtasksRetrying'
  | 'BatchSubtasksStopped';

/** Counts events; what a count becomes (an EMF line per invocation, or nothing) is the runtime's choice. */
export interface MetricsRecorder {
  count(name: MetricName, n?: number): void;
}
