// The list's filters as form controls, and their translation to and from the API's query
// parameters (docs/api.md, "Filters"). The page's address holds the same parameter names.
import {h} from './dom.js';

/** The API parameters the form offers, in the order they are shown. */
const fields = [
  {name: 'Status', label: 'Status', options: [['', 'any'], ['completed', 'completed'], ['failed', 'failed']]},
  {name: 'Direction', label: 'Direction', options: [['', 'any'], ['webhook', 'webhook'], ['api', 'api']]},
  {name: 'ResponseCode', label: 'Response code', placeholder: '2, 40, 404', pattern: '[0-9]{1,3}',
   title: 'A prefix of the response code: 1 to 3 digits', size: 5},
  {name: 'SessionSid', label: 'Session', placeholder: 'CallSid or MessageSid', size: 24},
  {name: 'RequestPath', label: 'Path prefix', placeholder: '/apps/acme/', size: 16},
  {name: 'ResponseBody', label: 'Response body contains', size: 16},
  {name: 'Latency', label: 'Latency at least (ms)', pattern: '[0-9]+', title: 'Milliseconds', size: 6},
  {name: 'DateCreated', label: 'From', type: 'datetime-local'},
  {name: 'DateCreatedBefore', label: 'Before', type: 'datetime-local'},
];

/** The names of every filter parameter (what a route keeps besides account and paging). */
export const filterNames = fields.map((f) => f.name);

/** A local datetime-local value -> the API's instant (UTC, Z). */
function toInstant(local) {
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString().replace(/\.000Z$/, 'Z');
}

/** The API's instant -> a datetime-local value in the browser's zone. */
function toLocal(instant) {
  const d = new Date(/^\d{4}-\d{2}-\d{2}$/.test(instant) ? `${instant}T00:00:00Z` : instant);
  if (Number.isNaN(d.getTime())) return '';
  const shifted = new Date(d.getTime() - d.getTimezoneOffset() * 60000);
  return shifted.toISOString().slice(0, 19);
}

/**
 * The filter form. `onApply(params)` gets URLSearchParams of the non-empty filters.
 */
export function filterForm(params, onApply) {
  const controls = fields.map((f) => {
    const id = `filter-${f.name}`;
    const value = params.get(f.name) || '';
    let control;
    if (f.options) {
      control = h('select', {id, name: f.name},
        f.options.map(([v, text]) => h('option', {value: v, selected: v === value}, text)));
    } else {
      control = h('input', {id, name: f.name, type: f.type || 'text', placeholder: f.placeholder,
        pattern: f.pattern, title: f.title, size: f.size, step: f.type ? 1 : undefined,
        spellcheck: 'false', autocomplete: 'off'});
      control.value = f.type === 'datetime-local' ? toLocal(value) : value;
    }
    return h('div', {class: 'field'}, h('label', {for: id}, f.label), control);
  });
  const form = h('form', {class: 'filters', 'aria-label': 'Filters'},
    controls,
    h('div', {class: 'field buttons'},
      h('button', {type: 'submit'}, 'Apply filters'),
      h('button', {type: 'reset'}, 'Clear')));
  const read = () => {
    const out = new URLSearchParams();
    for (const f of fields) {
      const raw = form.elements[f.name].value.trim();
      const value = f.type === 'datetime-local' && raw ? toInstant(raw) : raw;
      if (value) out.set(f.name, value);
    }
    return out;
  };
  form.addEventListener('submit', (e) => { e.preventDefault(); onApply(read()); });
  form.addEventListener('reset', () => setTimeout(() => onApply(new URLSearchParams())));
  return form;
}

/** The filter parameters of a route's params (no account, no paging). */
export function filtersOf(params) {
  const out = new URLSearchParams();
  for (const name of filterNames) if (params.get(name)) out.set(name, params.get(name));
  return out;
}
