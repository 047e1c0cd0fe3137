// solid-flow's stylesheet is exported without type declarations; importing it is a side effect only.
declare module "@dschz/solid-flow/styles";
