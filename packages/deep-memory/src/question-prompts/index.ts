export {
  buildQuestionPrompt,
  questionPromptPresets,
  type QuestionPrompt,
  type QuestionPromptInput,
  type QuestionPromptPreset,
} from "./question-prompt.js";
export { cleanGeneratedQuestions, sharesContentWord, MIN_QUESTION_LENGTH, MAX_QUESTION_LENGTH } from "./clean-questions.js";
