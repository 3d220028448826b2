export class NoteModel {
  static async create() { throw new Error('note model not implemented yet'); }
}
