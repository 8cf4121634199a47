import * as z from 'zod';
import type { SubtaskResult, TaskType } from '../domain/batch-tasks.ts';
import { MESSAGE_ERRORS, refusedOffline } from '../domain/messages.ts';
import { checkCommand } from '../domain/product-model.ts';
import type { Deps } from '../ports/deps.ts';
import { ApiError, errors } from '../errors.ts';
import type { BatchTaskRecord } from '../ports/batch-task-store.ts';
import { parseInput } from '../validation.ts';
import { CommandBody, commandPayload } from './create-command.ts';
import {
  MessageBody,
  messageResult,
  rejectOversizedMessage,
  sendMessage,
  type CreateMessageDeps,
} from './create-message.ts';
import { sendSyncRequest, syncTimeout, type SendSyncRequestDeps } from './send-sync-request.ts';

/** The ports this use case uses. */
export type BatchSubtaskDeps = Pick<Deps, 'clock' | 'logger'> & SendSyncRequestDeps & CreateMessageDeps;

/**
 * What one sub-task does, per task type (IoTDA §6.2): the document validated as the single-device call
 * validates its body, and the single-device call made for one target.
 */
interface TaskTypeAction {
  /** The document to store, validated as the single-device body; errors named under `document.`. */
  parse(document: unknown): Record<string, unknown>;
  /** One target's sub-task; an ApiError it throws is the sub-task's Fail. */
  run(deps: BatchSubtaskDeps, task: BatchTaskRecord, target: string): Promise<SubtaskResult>;
}

/** One createCommands sub-task: the single-device sync command, its outcome turned into a result (IoTDA §6.6). */
const sendCommand = async (deps: BatchSubtaskDeps, task: BatchTaskRecord, target: string): Promise<SubtaskResult> => {
  const command = CommandBody.parse(task.document);
  const outcome = await sendSyncRequest(deps, {
    project: task.project,
    deviceId: target,
    kind: 'command',
    payload: task.document,
    check: (model) => checkCommand(model, command),
  });
  if ('timedOut' in outcome) return { status: 'Fail', error: { ...syncTimeout } };
  return { status: 'Success', output: JSON.stringify(outcome.response) };
};

// Any task id has this length, so the size checked at creation is the size each device's message will have.
const TASK_ID_STAND_IN = '0'.repeat(24);

const parseMessageDocument = (document: unknown) => {
  const input = parseInput(z.object({ document: MessageBody }), { document }).document;
  // The single call's 413, once for the task rather than once per target.
  rejectOversizedMessage(input, input.message_id ?? TASK_ID_STAND_IN);
  return input;
};

/**
 * One createMessages sub-task: the single-device CreateMessage, Success once the message is accepted, with
 * its id and status then; its later fate is followed through the message API and notifications, not the task.
 * Without a `message_id` in the document, the task id is the message id: a sub-task run again finds the
 * message it made (sendMessage's origin check) instead of sending a second one.
 */
const sendTaskMessage = async (
  deps: BatchSubtaskDeps,
  task: BatchTaskRecord,
  target: string,
): Promise<SubtaskResult> => {
  const input = MessageBody.parse(task.document);
  const m = await sendMessage(
    deps,
    task.project,
    target,
    { ...input, message_id: input.message_id ?? task.taskId },
    { batchTaskId: task.taskId },
  );
  // IoTDA §6.6 (as for createCommands): an offline device is the sub-task's failure when the message may not wait.
  if (refusedOffline(m)) return { status: 'Fail', error: { ...MESSAGE_ERRORS.offline } };
  return {
    status: 'Success',
    output: JSON.stringify({ message_id: m.messageId, status: messageResult(m, deps.clock.now()).status }),
  };
};

const ACTIONS: Record<TaskType, TaskTypeAction> = {
  createCommands: {
    parse: (document) => commandPayload(parseInput(z.object({ document: CommandBody }), { document }).document),
    run: sendCommand,
  },
  createMessages: { parse: parseMessageDocument, run: sendTaskMessage },
};

/** The document, validated exactly as the single-device call validates its body, named under `document.`. */
export const parseTaskDocument = (taskType: TaskType, document: unknown): Record<string, unknown> =>
  ACTIONS[taskType].parse(document);

/** An error of the single-device call as a sub-task's error; anything else is logged and shown as internal. */
const asFailure = (deps: BatchSubtaskDeps, task: BatchTaskRecord, target: string, e: unknown): SubtaskResult => {
  if (e instanceof ApiError) return { status: 'Fail', error: { error_code: e.code, error_msg: e.message } };
  deps.logger.error('batch sub-task failed', { taskId: task.taskId, target, error: e as Error });
  const internal = errors.internal();
  return { status: 'Fail', error: { error_code: internal.code, error_msg: internal.message } };
};

/** Runs one sub-task of `task` for `target`. The single call's errors (unknown device IOTDA.014000, ...) end it Fail. */
export const runSubtaskAction = async (
  deps: BatchSubtaskDeps,
  task: BatchTaskRecord,
  target: string,
): Promise<SubtaskResult> => {
  try {
    return await ACTIONS[task.taskType].run(deps, task, target);
  } catch (e) {
    return asFailure(deps, task, target, e);
  }
};
