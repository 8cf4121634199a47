import { z } from 'zod';
import type { SubtaskResult, TaskType } from '../domain/batch-tasks.ts';
import type { Deps } from '../deps.ts';
import { ApiError, errors } from '../errors.ts';
import type { BatchTaskRecord } from '../ports/batch-task-store.ts';
import { parseInput } from '../validation.ts';
import { CommandBody, commandPayload } from './create-command.ts';
import { sendSyncRequest, syncTimeout } from './send-sync-request.ts';

/**
 * What one sub-task does, per task type (IoTDA §6.2): the document validated as the single-device call
 * validates its body, and the single-device call made for one target.
 */

/** The document, validated exactly as the single-device call validates its body, named under `document.`. */
export const parseTaskDocument = (taskType: TaskType, document: unknown): Record<string, unknown> => {
  if (taskType !== 'createCommands') throw errors.invalid('task_type', `${taskType} is not supported yet`);
  return commandPayload(parseInput(z.object({ document: CommandBody }), { document }).document);
};

/** An error of the single-device call as a sub-task's error; anything else is logged and shown as internal. */
const asFailure = (deps: Deps, task: BatchTaskRecord, target: string, e: unknown): SubtaskResult => {
  if (e instanceof ApiError) return { status: 'Fail', error: { error_code: e.code, error_msg: e.message } };
  deps.logger.error('batch sub-task failed', { taskId: task.taskId, target, error: e as Error });
  const internal = errors.internal();
  return { status: 'Fail', error: { error_code: internal.code, error_msg: internal.message } };
};

/** One createCommands sub-task: the single-device sync command, its outcome turned into a result (IoTDA §6.6). */
const sendCommand = async (deps: Deps, task: BatchTaskRecord, target: string): Promise<SubtaskResult> => {
  const outcome = await sendSyncRequest(deps, { project: task.project, deviceId: target, kind: 'command', payload: task.document });
  if ('timedOut' in outcome) return { status: 'Fail', error: { ...syncTimeout } };
  return { status: 'Success', output: JSON.stringify(outcome.response) };
};

/** Runs one sub-task of `task` for `target`. Offline (IOTDA.014016) and unknown device (IOTDA.014000) end Fail. */
export const runSubtaskAction = async (deps: Deps, task: BatchTaskRecord, target: string): Promise<SubtaskResult> => {
  try {
    return await sendCommand(deps, task, target);
  } catch (e) {
    return asFailure(deps, task, target, e);
  }
};
