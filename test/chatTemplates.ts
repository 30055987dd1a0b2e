/**
 * Chat templates written for these tests from the published turn formats (not copied files):
 * Gemma 3 (<start_of_turn>role … <end_of_turn>, "model" for the assistant, the system message
 * folded into the first user turn, roles must alternate) and Llama 3 (header ids, <|eot_id|>).
 */

/** Gemma-3-style template. */
export const GEMMA3_TEMPLATE = [
  '{{ bos_token }}',
  "{%- if messages[0]['role'] == 'system' -%}",
  "  {%- set first_user_prefix = messages[0]['content'] | trim + '\\n\\n' -%}",
  '  {%- set loop_messages = messages[1:] -%}',
  '{%- else -%}',
  "  {%- set first_user_prefix = '' -%}",
  '  {%- set loop_messages = messages -%}',
  '{%- endif -%}',
  '{%- for message in loop_messages -%}',
  "  {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) -%}",
  "    {{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}",
  '  {%- endif -%}',
  "  {%- set role = 'model' if message['role'] == 'assistant' else message['role'] -%}",
  "  {{ '<start_of_turn>' + role + '\\n' + (first_user_prefix if loop.first else '') + (message['content'] | trim) + '<end_of_turn>\\n' }}",
  '{%- endfor -%}',
  '{%- if add_generation_prompt -%}',
  "  {{ '<start_of_turn>model\\n' }}",
  '{%- endif -%}',
].join('\n');

/** Llama-3-style template. */
export const LLAMA3_TEMPLATE =
  '{{- bos_token }}{%- for message in messages %}' +
  "{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + (message['content'] | trim) + '<|eot_id|>' }}" +
  "{%- endfor %}{%- if add_generation_prompt %}{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{%- endif %}";
